// kilnrt._kilnrt: the runtime's C++ API (runtime/api/runtime.h) for Python. numpy arrays in and
// out; Session.run releases the GIL, so sessions in several threads run at once.
#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "common/infer_outputs.h"
#include "common/strings.h"
#include "runtime/api/runtime.h"
#include "runtime/api/user_arrays.h"
#include "runtime/post/nms.h"
#include "runtime/python/py_arrays.h"
#include "runtime/python/py_gil.h"

namespace py = pybind11;

namespace kiln::python {

namespace {

// Session options of the Python API. A new C++ session option (such as a thread count) is one
// field here, one keyword in Model.session and one line in PySession's constructor.
struct SessionOptions {
  int threads = 1;
};

py::dict streamInfo(const rt::StreamDesc& s) {
  py::dict d;
  d["name"] = s.name;
  d["shape"] = py::tuple(py::cast(s.shape));
  d["layout"] = s.layout;
  d["dtype"] = s.bits == 16 ? "uint16" : "uint8";
  d["scale"] = s.scale;
  d["zero_point"] = s.zeroPoint;
  d["limvals"] = py::make_tuple(s.limMin, s.limMax);
  return d;
}

// A session and the lock that keeps a second thread out of it (rt::Session is not thread-safe).
class PySession {
 public:
  PySession(std::shared_ptr<const rt::Model> model, const SessionOptions& opts)
      : model_(std::move(model)), session_(model_), options_(opts) {
    session_.setThreads(opts.threads);
  }

  py::object run(const py::object& inputs, const std::string& outputType, bool rawOutputs);
  double lastRunSeconds() const { return session_.lastRunSeconds(); }
  size_t arenaBytes() const { return session_.arenaBytes(); }
  const SessionOptions& options() const { return options_; }
  std::shared_ptr<const rt::Model> model() const { return model_; }

 private:
  std::shared_ptr<const rt::Model> model_;
  rt::Session session_;
  SessionOptions options_;
  std::mutex busy_;
};

// The inputs in stream order: a dict by stream name, a list/tuple in order, or one array.
std::vector<py::object> orderedInputs(const rt::Model& m, const py::object& inputs) {
  const auto& streams = m.inputs();
  std::vector<py::object> out;
  if (py::isinstance<py::dict>(inputs)) {
    const py::dict d = inputs.cast<py::dict>();
    for (const auto& s : streams) {
      if (!d.contains(s.name))
        throw rt::InputError("the inputs have no array for input '" + s.name +
                             "'; the network's inputs are " + rt::streamList(streams));
      out.push_back(d[py::str(s.name)]);
    }
    for (const auto& kv : d) {
      const std::string key = py::str(kv.first);
      bool known = false;
      for (const auto& s : streams) known |= s.name == key;
      if (!known)
        throw rt::InputError("the inputs name '" + key +
                             "', which is not an input; the network's "
                             "inputs are " +
                             rt::streamList(streams));
    }
  } else if (py::isinstance<py::list>(inputs) || py::isinstance<py::tuple>(inputs)) {
    for (const auto& x : inputs) out.push_back(py::reinterpret_borrow<py::object>(x));
  } else {
    out.push_back(inputs);
  }
  return out;
}

py::object PySession::run(const py::object& inputs, const std::string& outputType,
                          bool rawOutputs) {
  const rt::Model& m = *model_;
  // A model with nms_postprocess returns the decoded boxes (as kilnrt infer), from the
  // dequantized outputs; raw_outputs=True gives the network's own outputs instead.
  const rt::NmsConfig* nms = rawOutputs ? nullptr : m.nms();
  if (nms && outputType != "float32")
    throw py::value_error("output_type='" + outputType +
                          "': this model's output is its nms_postprocess boxes (float32); give "
                          "raw_outputs=True for the network's own outputs as device integers");
  static const std::vector<std::string> kTypes = {"float32", "auto", "uint8", "uint16"};
  if (std::find(kTypes.begin(), kTypes.end(), outputType) == kTypes.end())
    throw py::value_error("output_type='" + outputType +
                          "': expected float32 (dequantized), auto (the device integers), uint8 "
                          "or uint16");
  const rt::BufferType outType = rt::parseBufferType(outputType);
  const std::vector<py::object> given = orderedInputs(m, inputs);
  rt::checkInputCount(m, given.size(), "the inputs");
  std::vector<py::array> arrays;
  std::vector<rt::UserArray> described;
  for (size_t k = 0; k < given.size(); ++k) {
    const std::string label = "inputs['" + m.inputs()[k].name + "']";
    py::array a = contiguous(given[k]);
    const auto type = elemTypeOf(a.dtype());
    if (!type)
      throw rt::InputError(label + " expects float32 " + shapeStr(m.inputs()[k].shape) +
                           " (or the device's integers), the array holds " +
                           std::string(py::str(a.dtype())));
    described.push_back({label, *type, shapeOf(a)});
    arrays.push_back(std::move(a));
  }
  const rt::ArrayFeeds feeds = rt::checkInputArrays(m, described, "", "the inputs", "the array");
  std::vector<py::array> outs;
  std::vector<size_t> outFrameBytes;
  for (const auto& s : m.outputs()) {
    const auto shape = batchedShape(s.shape, feeds.frames);
    outs.emplace_back(dtypeOf(rt::npyTypeOf(outType, s)),
                      std::vector<py::ssize_t>(shape.begin(), shape.end()));
    outFrameBytes.push_back(size_t(rt::streamElements(s)) * rt::elementBytes(outType, s));
  }
  std::vector<const uint8_t*> inData;
  for (auto& a : arrays) inData.push_back(static_cast<const uint8_t*>(a.data()));
  std::vector<uint8_t*> outData;
  for (auto& a : outs) outData.push_back(static_cast<uint8_t*>(a.mutable_data()));
  py::array_t<float> boxes;
  if (nms)
    boxes = py::array_t<float>(std::vector<py::ssize_t>{feeds.frames, rt::nmsOutputSize(*nms)});
  float* boxData = nms ? boxes.mutable_data() : nullptr;

  std::unique_lock<std::mutex> lock(busy_, std::try_to_lock);
  if (!lock.owns_lock())
    throw py::value_error(
        "this Session is running in another thread; a session is for one thread at a time "
        "(make one session per thread: model.session())");
  withoutGil([&] {
    std::vector<rt::InputBuffer> in(inData.size());
    std::vector<rt::OutputBuffer> out(outData.size());
    for (int64_t f = 0; f < feeds.frames; ++f) {
      for (size_t k = 0; k < in.size(); ++k)
        in[k] = {inData[k] + size_t(f) * feeds.inputs[k].frameBytes, feeds.inputs[k].frameBytes,
                 feeds.inputs[k].type};
      for (size_t k = 0; k < out.size(); ++k)
        out[k] = {outData[k] + size_t(f) * outFrameBytes[k], outFrameBytes[k], outType};
      session_.run(in, out);
      if (nms) {
        std::vector<rt::NmsTensor> t;
        for (size_t k = 0; k < out.size(); ++k)
          t.push_back({reinterpret_cast<const float*>(out[k].data), m.outputs()[k].shape,
                       m.outputs()[k].layout});
        const std::vector<float> b = rt::runNms(*nms, t);
        std::copy(b.begin(), b.end(), boxData + size_t(f) * b.size());
      }
      if (feeds.frames > 1) pollPython(nullptr);  // Ctrl-C between frames
    }
  });
  if (nms) {  // [frames, classes * (1 + 5 * max proposals)], the layout of docs/runtime.md
    outs.assign(1, boxes);
    if (py::isinstance<py::dict>(inputs)) {
      py::dict d;
      d[py::str(rt::kNmsOutputName)] = boxes;
      return d;
    }
  }
  // One array in, one output: the array. A dict in: a dict. Otherwise a list in output order.
  if (py::isinstance<py::dict>(inputs)) {
    py::dict d;
    for (size_t k = 0; k < outs.size(); ++k) d[py::str(m.outputs()[k].name)] = outs[k];
    return d;
  }
  if (outs.size() == 1 && !py::isinstance<py::list>(inputs) && !py::isinstance<py::tuple>(inputs))
    return outs[0];
  py::list l;
  for (auto& o : outs) l.append(o);
  return l;
}

std::shared_ptr<const rt::Model> openModel(const py::object& source, bool verifyChecksums,
                                           int64_t maxArenaBytes, int64_t maxWork) {
  rt::LoadOptions o;
  o.verifyChecksums = verifyChecksums;
  o.maxArenaBytes = maxArenaBytes;
  o.maxWork = maxWork;
  if (py::isinstance<py::bytes>(source) || py::isinstance<py::bytearray>(source) ||
      py::isinstance<py::memoryview>(source)) {
    const std::string bytes = py::bytes(py::module_::import("builtins").attr("bytes")(source));
    return withoutGil([&] {
      return rt::Model::fromBytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                                  "<bytes>", o);
    });
  }
  const std::string path = py::str(py::module_::import("os").attr("fspath")(source));
  return withoutGil([&] { return rt::Model::open(path, o); });
}

// A model as Python holds it (pybind11 holders cannot point to const).
struct PyModel {
  std::shared_ptr<const rt::Model> model;
};

PyModel openModelFrom(const py::object& source, bool verifyChecksums, int64_t maxArenaBytes,
                      int64_t maxWork) {
  return {openModel(source, verifyChecksums, maxArenaBytes, maxWork)};
}

std::unique_ptr<PySession> makeSession(const PyModel& p, int threads) {
  if (threads < 1 || threads > 256)
    throw py::value_error("threads=" + std::to_string(threads) +
                          ": expected a thread count from 1 to 256");
  SessionOptions o;
  o.threads = threads;
  return std::make_unique<PySession>(p.model, o);
}

py::list streams(const std::vector<rt::StreamDesc>& v) {
  py::list l;
  for (const auto& s : v) l.append(streamInfo(s));
  return l;
}

py::dict modelInfo(const PyModel& p) {
  const rt::Model& model = *p.model;
  const rt::Metadata& meta = model.program().meta;
  py::dict d;
  d["path"] = model.path();
  d["file_bytes"] = model.fileBytes();
  d["format_version"] = model.formatVersion();
  d["net_name"] = meta.netName;
  d["hw_arch"] = meta.hwArch;
  d["tool_version"] = meta.toolVersion;
  d["graph_hash"] = meta.graphHash;
  d["work"] = model.work();
  d["operations"] = model.program().ops.size();
  d["plan"] = model.planText();
  return d;
}

}  // namespace

}  // namespace kiln::python

PYBIND11_MODULE(_kilnrt, m) {
  using namespace kiln;
  using namespace kiln::python;
  m.doc() = "The Kiln runtime: run a .kef executable on numpy arrays (see the kilnrt package).";

  static py::exception<rt::Error> error(m, "KilnrtError");
  error.attr("__doc__") =
      "A .kef that cannot be loaded (truncated, corrupt, another version, over a limit) "
      "or a run that fails. The message names the file and what is wrong.";
  // Both a KilnrtError and a ValueError: wrong input arrays (count, dtype, shape).
  static py::object inputError = py::reinterpret_steal<py::object>(PyErr_NewExceptionWithDoc(
      "kilnrt._kilnrt.InputError",
      "Input arrays that cannot feed the model: another count, dtype or shape. A ValueError.",
      py::make_tuple(error, py::handle(PyExc_ValueError)).ptr(), nullptr));
  m.attr("InputError") = inputError;
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const rt::InputError& e) {
      PyErr_SetString(inputError.ptr(), e.what());
    } catch (const rt::Error& e) {
      PyErr_SetString(error.ptr(), e.what());
    } catch (const files::FileError& e) {  // reading the .kef file
      PyErr_SetString(error.ptr(), e.what());
    }
  });

  py::class_<PySession>(m, "Session", R"doc(
A session runs one model: it holds the activation memory. Make one per thread
(Model.session()); sessions of one model share its validated operations.
)doc")
      .def("run", &PySession::run, py::arg("inputs"), py::arg("output_type") = "float32",
           py::arg("raw_outputs") = false,
           R"doc(
Runs the model on `inputs` and returns its outputs.

inputs: a dict {input name: array}, a list of arrays in input order, or one array for a
  one-input model. Each array has the input's shape in the ONNX model's layout, or [N, ...]
  with the same trailing dimensions to run N frames. float32 arrays are quantized on the host;
  uint8/uint16 arrays are the device integers, passed as they are.
output_type: "float32" (dequantized, default), "auto" (the device integers, uint8 or uint16 by
  the stream), "uint8" or "uint16" -- as `kilnrt infer --user-format-type`.
raw_outputs: for a model compiled with nms_postprocess, which returns its decoded boxes by
  default (one float32 array "nms_postprocess" [N, classes * (1 + 5 * max proposals)]: per class
  a count, then [y_min, x_min, y_max, x_max, score] boxes, docs/runtime.md), True returns the
  network's own outputs instead -- as `kilnrt infer --raw-outputs`.

Returns a dict {output name: array} for a dict of inputs, one array for one array in and one
output, else a list in output order. The values equal `kilnrt infer`'s files bit for bit.
Raises InputError (a ValueError) for a wrong count, dtype or shape. The GIL is released while
the frames run; Ctrl-C stops a batch between frames.
)doc")
      .def_property_readonly("last_run_seconds", &PySession::lastRunSeconds,
                             "Seconds the last frame took (conversions included).")
      .def_property_readonly("arena_bytes", &PySession::arenaBytes,
                             "Bytes of the session's activation memory.")
      .def_property_readonly(
          "threads", [](const PySession& s) { return s.options().threads; },
          "Threads the session runs on.");

  py::class_<PyModel>(m, "Model", R"doc(
A loaded .kef executable, validated once when opened. Immutable: share it between threads and
make one Session per thread.
)doc")
      .def(py::init(&openModelFrom), py::arg("source"), py::kw_only(),
           py::arg("verify_checksums") = true, py::arg("max_arena_bytes") = int64_t(1) << 30,
           py::arg("max_work") = int64_t(1) << 40, R"doc(
Opens a .kef: `source` is a path (str or os.PathLike) or the file's bytes (e.g. from
kiln.ClientRunner.compile()). verify_checksums, max_arena_bytes and max_work are the runtime's
LoadOptions (docs/runtime.md): a file beyond the limits is refused. Raises KilnrtError naming
the file and the problem.
)doc")
      .def("session", &makeSession, py::kw_only(), py::arg("threads") = 1,
           "A new Session of this model (threads: the threads each operation may split its work "
           "over,\n"
           "1 to 256; the outputs are the same bytes for every count).")
      .def_property_readonly(
          "inputs", [](const PyModel& p) { return streams(p.model->inputs()); },
          "The input streams: dicts of name, shape (ONNX layout), layout, dtype (the device's "
          "uint8/uint16), scale, zero_point, limvals.")
      .def_property_readonly(
          "outputs", [](const PyModel& p) { return streams(p.model->outputs()); },
          "The output streams, as inputs.")
      .def_property_readonly(
          "info", &modelInfo,
          "What the file holds: path, file_bytes, format_version, net_name, hw_arch, "
          "tool_version, graph_hash, work (per frame), operations, plan (the compiler's "
          "resource plan summary).")
      .def("__repr__", [](const PyModel& p) {
        return "<kilnrt.Model " + p.model->program().meta.netName + " for " +
               p.model->program().meta.hwArch + " (" + p.model->path() + ")>";
      });
}
