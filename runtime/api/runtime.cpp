#include "runtime/api/runtime.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "runtime/engine/executor.h"
#include "runtime/engine/host_convert.h"
#include "runtime/engine/host_convert_run.h"
#include "runtime/format/kef.h"

namespace kiln::rt {

namespace {

std::string shapeStr(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

}  // namespace

const char* bufferTypeName(BufferType t) {
  switch (t) {
    case BufferType::Auto:
      return "auto";
    case BufferType::UInt8:
      return "uint8";
    case BufferType::UInt16:
      return "uint16";
    case BufferType::Float32:
      return "float32";
  }
  return "?";
}

BufferType parseBufferType(const std::string& s) {
  if (s == "auto") return BufferType::Auto;
  if (s == "uint8") return BufferType::UInt8;
  if (s == "uint16") return BufferType::UInt16;
  if (s == "float32") return BufferType::Float32;
  throw Error("unknown buffer type '" + s + "' (expected auto, uint8, uint16 or float32)");
}

size_t elementBytes(BufferType t, const StreamDesc& s) {
  switch (t) {
    case BufferType::Auto:
      return s.bits == 16 ? 2 : 1;
    case BufferType::UInt8:
      return 1;
    case BufferType::UInt16:
      return 2;
    case BufferType::Float32:
      return 4;
  }
  return 0;
}

int64_t streamElements(const StreamDesc& s) {
  int64_t n = 1;
  for (int64_t d : s.shape) n *= d;
  return n;
}

// ---- Model ----

Model::~Model() {
  prepared_.reset();  // the kernels point into the mapping
  if (mapped_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

void Model::load(const LoadOptions& opts) {
  options_ = opts;
  try {
    KefOptions ko;
    ko.verifyChecksums = opts.verifyChecksums;
    KefFile f = parseKef(data_, size_, ko);
    program_ = std::move(f.program);
    planText_ = std::move(f.planText);
    if (f.hasNms) nms_ = std::make_shared<const NmsConfig>(std::move(f.nms));
    version_ = f.version;
    Limits limits;
    limits.maxArenaElems = opts.maxArenaBytes / int64_t(sizeof(Act));
    limits.maxWork = opts.maxWork;
    prepared_ = std::make_shared<const PreparedProgram>(program_, limits);
  } catch (const Error& e) {
    throw Error(path_ + ": " + e.what());
  }
}

int64_t Model::work() const {
  return prepared_->totalWork();
}
int64_t Model::opWork(size_t op) const {
  return prepared_->opWork(op);
}
KernelPath Model::kernelPath() const {
  return prepared_->kernelPath();
}

std::shared_ptr<const Model> Model::open(const std::string& path, const LoadOptions& opts) {
  std::shared_ptr<Model> m(new Model());
  m->path_ = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(path + ": not a regular file");
  }
  m->size_ = size_t(st.st_size);
  if (m->size_ == 0) {
    ::close(fd);
    throw Error(path + ": the file is empty (not a Kiln executable)");
  }
  void* p = ::mmap(nullptr, m->size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) throw Error(path + ": cannot map the file (" + std::strerror(errno) + ")");
  m->data_ = static_cast<const uint8_t*>(p);
  m->mapped_ = true;
  m->load(opts);
  return m;
}

std::shared_ptr<const Model> Model::fromBytes(const uint8_t* data, size_t size,
                                              const std::string& name, const LoadOptions& opts) {
  std::shared_ptr<Model> m(new Model());
  m->path_ = name;
  m->owned_ = std::make_unique<uint64_t[]>(size / 8 + 1);
  if (size) std::memcpy(m->owned_.get(), data, size);
  m->data_ = reinterpret_cast<const uint8_t*>(m->owned_.get());
  m->size_ = size;
  m->load(opts);
  return m;
}

// ---- Session ----

Session::Session(std::shared_ptr<const Model> model) : model_(std::move(model)) {
  exec_ = std::make_unique<Executor>(model_->prepared());
}

Session::~Session() = default;

void Session::setThreads(int n) {
  if (n < 1 || n > 256)
    throw Error(model_->path() + ": threads = " + std::to_string(n) + ", expected 1 to 256");
  exec_->setThreads(n);
}
int Session::threads() const {
  return exec_->threads();
}

const std::vector<double>& Session::opSeconds() const {
  return exec_->opSeconds();
}
size_t Session::arenaBytes() const {
  return exec_->arenaBytes();
}

void Session::convertIn(size_t k, int64_t first, int64_t n, const InputBuffer& b) {
  const StreamDesc& s = model_->program().inputs[k];
  if (b.type == BufferType::UInt16 && s.bits == 8)
    throw Error(model_->path() + ": input stream '" + s.name +
                "' is uint8 on the device; uint16 data cannot be narrowed (give uint8, or "
                "float32 to quantize on the host)");
  Act* dst = exec_->input(k) + first;
  const size_t es = elementBytes(b.type, s);
  if (b.type == BufferType::Float32) {
    // On the session's threads, as the operations (the same bytes for every count).
    const ThreadPool::Scope scope(exec_->pool());
    quantizeToArena(model_->kernelPath(), static_cast<const float*>(b.data), n, s, dst);
  } else if (es == 1) {
    if (s.bits == 16 && !warnedWiden_ && onWarning) {
      onWarning("input stream '" + s.name +
                "' is uint16 on the device: uint8 data is widened as is (values 0-255)");
      warnedWiden_ = true;
    }
    const auto* src = static_cast<const uint8_t*>(b.data);
    for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
  } else {
    uint16_t v;
    for (int64_t i = 0; i < n; ++i) {
      std::memcpy(&v, static_cast<const uint8_t*>(b.data) + 2 * i, 2);
      dst[i] = v;
    }
  }
}

void Session::convertOut(size_t k, int64_t first, int64_t n, const OutputBuffer& b) {
  const StreamDesc& s = model_->program().outputs[k];
  if (b.type == BufferType::UInt8 && s.bits == 16)
    throw Error(model_->path() + ": output stream '" + s.name +
                "' is uint16 on the device; a uint8 buffer cannot hold it (use auto, uint16 "
                "or float32)");
  const Act* src = exec_->output(k) + first;
  const size_t es = elementBytes(b.type, s);
  if (b.type == BufferType::Float32) {
    const ThreadPool::Scope scope(exec_->pool());
    dequantizeFromArena(model_->kernelPath(), src, n, s, static_cast<float*>(b.data));
  } else if (es == 1) {
    auto* dst = static_cast<uint8_t*>(b.data);
    for (int64_t i = 0; i < n; ++i) dst[i] = uint8_t(src[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const uint16_t v = src[i];
      std::memcpy(static_cast<uint8_t*>(b.data) + 2 * i, &v, 2);
    }
  }
}

int64_t Session::pieceElements(const StreamDesc& s, BufferType t, int64_t first, size_t bytes,
                               const char* kind) const {
  const size_t es = elementBytes(t, s);
  const int64_t total = streamElements(s);
  if (es == 0 || bytes % es != 0 || first < 0 || first > total ||
      int64_t(bytes / es) > total - first)
    throw Error(model_->path() + ": " + kind + " stream '" + s.name + "': a piece of " +
                std::to_string(bytes) + " bytes of " + bufferTypeName(t) + " from element " +
                std::to_string(first) + " is not whole elements within the stream's " +
                std::to_string(total) + " (" + shapeStr(s.shape) + ")");
  return int64_t(bytes / es);
}

void Session::setInput(size_t k, int64_t first, const InputBuffer& piece) {
  const Program& p = model_->program();
  if (k >= p.inputs.size())
    throw Error(model_->path() + ": input stream " + std::to_string(k) + " does not exist (" +
                std::to_string(p.inputs.size()) + " input stream(s))");
  convertIn(k, first, pieceElements(p.inputs[k], piece.type, first, piece.bytes, "input"), piece);
}

void Session::compute() {
  const auto t0 = std::chrono::steady_clock::now();
  exec_->run(profile_);
  lastCompute_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void Session::getOutput(size_t k, int64_t first, const OutputBuffer& piece) {
  const Program& p = model_->program();
  if (k >= p.outputs.size())
    throw Error(model_->path() + ": output stream " + std::to_string(k) + " does not exist (" +
                std::to_string(p.outputs.size()) + " output stream(s))");
  convertOut(k, first, pieceElements(p.outputs[k], piece.type, first, piece.bytes, "output"),
             piece);
}

void Session::run(const std::vector<InputBuffer>& inputs,
                  const std::vector<OutputBuffer>& outputs) {
  const auto t0 = std::chrono::steady_clock::now();
  const Program& p = model_->program();
  if (inputs.size() != p.inputs.size())
    throw Error(model_->path() + ": the network has " + std::to_string(p.inputs.size()) +
                " input stream(s), " + std::to_string(inputs.size()) + " buffer(s) given");
  if (outputs.size() != p.outputs.size())
    throw Error(model_->path() + ": the network has " + std::to_string(p.outputs.size()) +
                " output stream(s), " + std::to_string(outputs.size()) + " buffer(s) given");
  auto checkSize = [&](const StreamDesc& s, BufferType t, size_t given, const char* kind) {
    const size_t es = elementBytes(t, s);
    const size_t want = size_t(streamElements(s)) * es;
    if (given != want)
      throw Error(model_->path() + ": " + kind + " stream '" + s.name + "': buffer of " +
                  std::to_string(given) + " bytes, expected " + std::to_string(want) + " (" +
                  shapeStr(s.shape) + " x " + bufferTypeName(t) + ", " + std::to_string(es) +
                  " byte(s) each)");
  };
  for (size_t k = 0; k < inputs.size(); ++k) {
    const StreamDesc& s = p.inputs[k];
    if (inputs[k].type == BufferType::UInt16 && s.bits == 8)
      convertIn(k, 0, 0, inputs[k]);  // throws the narrowing error before the size's
    checkSize(s, inputs[k].type, inputs[k].bytes, "input");
    convertIn(k, 0, streamElements(s), inputs[k]);
  }
  for (size_t k = 0; k < outputs.size(); ++k) {
    const StreamDesc& s = p.outputs[k];
    if (outputs[k].type == BufferType::UInt8 && s.bits == 16)
      convertOut(k, 0, 0, outputs[k]);  // throws the narrowing error before the size's
    checkSize(s, outputs[k].type, outputs[k].bytes, "output");
  }
  compute();
  for (size_t k = 0; k < outputs.size(); ++k)
    convertOut(k, 0, streamElements(p.outputs[k]), outputs[k]);
  lastRun_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace kiln::rt
