// The C API (kilnrt.h) over the C++ API: every entry point catches everything, records the
// message in a thread-local string and returns a status.
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "runtime/api/kilnrt.h"
#include "runtime/api/runtime.h"

struct kilnrt_model {
  std::shared_ptr<const kiln::rt::Model> model;
};

struct kilnrt_session {
  std::unique_ptr<kiln::rt::Session> session;
  kilnrt_warning_fn warn = nullptr;
  void* user = nullptr;
};

namespace {

using namespace kiln::rt;

thread_local std::string g_lastError;

kilnrt_status fail(kilnrt_status s, const std::string& msg) {
  try {
    g_lastError = msg;
  } catch (...) {
  }
  return s;
}

// Runs `f`, turning exceptions into statuses (`onError` for kiln::rt::Error).
template <typename F>
kilnrt_status guard(kilnrt_status onError, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    return fail(onError, e.what());
  } catch (const std::bad_alloc&) {
    return fail(KILNRT_ERROR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail(KILNRT_ERROR_INTERNAL, e.what());
  } catch (...) {
    return fail(KILNRT_ERROR_INTERNAL, "unexpected failure");
  }
}

// The buffer type field as the integer C stored: a C caller may put any int there, and loading
// an out-of-range value as the enum would be undefined behaviour in C++.
int rawType(const kilnrt_buffer_type* field) {
  static_assert(sizeof(kilnrt_buffer_type) == sizeof(int), "C enums are int-sized");
  int v;
  std::memcpy(&v, field, sizeof v);
  return v;
}

bool toBufferType(int t, BufferType& out) {
  switch (t) {
    case KILNRT_BUFFER_AUTO:
      out = BufferType::Auto;
      return true;
    case KILNRT_BUFFER_UINT8:
      out = BufferType::UInt8;
      return true;
    case KILNRT_BUFFER_UINT16:
      out = BufferType::UInt16;
      return true;
    case KILNRT_BUFFER_FLOAT32:
      out = BufferType::Float32;
      return true;
    default:
      return false;
  }
}

const std::vector<StreamDesc>* streamsOf(const kilnrt_model* m, kilnrt_stream_kind kind) {
  if (!m || !m->model) return nullptr;
  if (kind == KILNRT_INPUT) return &m->model->inputs();
  if (kind == KILNRT_OUTPUT) return &m->model->outputs();
  return nullptr;
}

}  // namespace

extern "C" {

const char* kilnrt_last_error(void) {
  return g_lastError.c_str();
}

const char* kilnrt_status_name(kilnrt_status s) {
  switch (s) {
    case KILNRT_OK:
      return "KILNRT_OK";
    case KILNRT_ERROR_INVALID_ARGUMENT:
      return "KILNRT_ERROR_INVALID_ARGUMENT";
    case KILNRT_ERROR_IO:
      return "KILNRT_ERROR_IO";
    case KILNRT_ERROR_FORMAT:
      return "KILNRT_ERROR_FORMAT";
    case KILNRT_ERROR_BUFFER_SIZE:
      return "KILNRT_ERROR_BUFFER_SIZE";
    case KILNRT_ERROR_OUT_OF_MEMORY:
      return "KILNRT_ERROR_OUT_OF_MEMORY";
    case KILNRT_ERROR_INTERNAL:
      return "KILNRT_ERROR_INTERNAL";
  }
  return "KILNRT_UNKNOWN_STATUS";
}

kilnrt_status kilnrt_model_open(const char* path, kilnrt_model** model) {
  if (!model) return fail(KILNRT_ERROR_INVALID_ARGUMENT, "kilnrt_model_open: model is NULL");
  *model = nullptr;
  if (!path) return fail(KILNRT_ERROR_INVALID_ARGUMENT, "kilnrt_model_open: path is NULL");
  // A file that cannot be read is an I/O error; anything else wrong with it a format error.
  struct stat st {};
  const bool readable = ::stat(path, &st) == 0 && S_ISREG(st.st_mode) && ::access(path, R_OK) == 0;
  return guard(readable ? KILNRT_ERROR_FORMAT : KILNRT_ERROR_IO, [&] {
    auto h = std::make_unique<kilnrt_model>();
    h->model = Model::open(path);
    *model = h.release();
    return KILNRT_OK;
  });
}

void kilnrt_model_close(kilnrt_model* model) {
  delete model;
}

kilnrt_status kilnrt_model_stream_count(const kilnrt_model* model, kilnrt_stream_kind kind,
                                        size_t* count) {
  const auto* v = streamsOf(model, kind);
  if (!v || !count)
    return fail(KILNRT_ERROR_INVALID_ARGUMENT,
                "kilnrt_model_stream_count: NULL model or count, or unknown stream kind");
  *count = v->size();
  return KILNRT_OK;
}

kilnrt_status kilnrt_model_stream_info(const kilnrt_model* model, kilnrt_stream_kind kind,
                                       size_t index, kilnrt_stream_info* info) {
  const auto* v = streamsOf(model, kind);
  if (!v || !info)
    return fail(KILNRT_ERROR_INVALID_ARGUMENT,
                "kilnrt_model_stream_info: NULL model or info, or unknown stream kind");
  if (index >= v->size())
    return fail(KILNRT_ERROR_INVALID_ARGUMENT, std::string("kilnrt_model_stream_info: ") +
                                                   (kind == KILNRT_INPUT ? "input" : "output") +
                                                   " stream " + std::to_string(index) +
                                                   " out of range (the model has " +
                                                   std::to_string(v->size()) + ")");
  const StreamDesc& s = (*v)[index];
  if (s.shape.size() > KILNRT_MAX_RANK)
    return fail(KILNRT_ERROR_INTERNAL, "stream '" + s.name + "' has a rank above 8");
  *info = kilnrt_stream_info{};
  info->name = s.name.c_str();
  info->layout = s.layout.c_str();
  info->rank = int32_t(s.shape.size());
  for (size_t i = 0; i < s.shape.size(); ++i) info->shape[i] = s.shape[i];
  info->elements = size_t(streamElements(s));
  info->bits = s.bits;
  info->qp_scale = s.scale;
  info->qp_zp = s.zeroPoint;
  info->limvals_min = s.limMin;
  info->limvals_max = s.limMax;
  return KILNRT_OK;
}

size_t kilnrt_stream_buffer_bytes(const kilnrt_stream_info* info, kilnrt_buffer_type type) {
  if (!info) return 0;
  switch (type) {
    case KILNRT_BUFFER_AUTO:
      return info->elements * (info->bits == 16 ? 2 : 1);
    case KILNRT_BUFFER_UINT8:
      return info->elements;
    case KILNRT_BUFFER_UINT16:
      return info->elements * 2;
    case KILNRT_BUFFER_FLOAT32:
      return info->elements * 4;
  }
  return 0;
}

kilnrt_status kilnrt_session_create(const kilnrt_model* model, kilnrt_session** session) {
  if (!session)
    return fail(KILNRT_ERROR_INVALID_ARGUMENT, "kilnrt_session_create: session is NULL");
  *session = nullptr;
  if (!model || !model->model)
    return fail(KILNRT_ERROR_INVALID_ARGUMENT, "kilnrt_session_create: model is NULL");
  return guard(KILNRT_ERROR_FORMAT, [&] {
    auto h = std::make_unique<kilnrt_session>();
    h->session = std::make_unique<Session>(model->model);
    kilnrt_session* raw = h.get();
    h->session->onWarning = [raw](const std::string& msg) {
      if (raw->warn) raw->warn(msg.c_str(), raw->user);
    };
    *session = h.release();
    return KILNRT_OK;
  });
}

void kilnrt_session_destroy(kilnrt_session* session) {
  delete session;
}

kilnrt_status kilnrt_session_set_warning_callback(kilnrt_session* session, kilnrt_warning_fn fn,
                                                  void* user_data) {
  if (!session)
    return fail(KILNRT_ERROR_INVALID_ARGUMENT,
                "kilnrt_session_set_warning_callback: session is NULL");
  session->warn = fn;
  session->user = user_data;
  return KILNRT_OK;
}

kilnrt_status kilnrt_session_set_threads(kilnrt_session* session, int threads) {
  if (!session || !session->session)
    return fail(KILNRT_ERROR_INVALID_ARGUMENT, "kilnrt_session_set_threads: session is NULL");
  if (threads < 1 || threads > 256)
    return fail(KILNRT_ERROR_INVALID_ARGUMENT, "kilnrt_session_set_threads: threads = " +
                                                   std::to_string(threads) + ", expected 1 to 256");
  return guard(KILNRT_ERROR_INVALID_ARGUMENT, [&] {
    session->session->setThreads(threads);
    return KILNRT_OK;
  });
}

kilnrt_status kilnrt_session_run(kilnrt_session* session, const kilnrt_input_buffer* inputs,
                                 size_t input_count, const kilnrt_output_buffer* outputs,
                                 size_t output_count) {
  if (!session || !session->session)
    return fail(KILNRT_ERROR_INVALID_ARGUMENT, "kilnrt_session_run: session is NULL");
  if ((input_count && !inputs) || (output_count && !outputs))
    return fail(KILNRT_ERROR_INVALID_ARGUMENT, "kilnrt_session_run: NULL buffer array");
  return guard(KILNRT_ERROR_INVALID_ARGUMENT, [&] {
    const Model& m = session->session->model();
    std::vector<InputBuffer> in(input_count);
    std::vector<OutputBuffer> out(output_count);
    // Classify the failure the C++ run() would report: a size mismatch of a well-typed buffer
    // is KILNRT_ERROR_BUFFER_SIZE, everything else an invalid argument.
    bool sizeMismatch = false, typeMismatch = false;
    for (size_t k = 0; k < input_count; ++k) {
      if (!toBufferType(rawType(&inputs[k].type), in[k].type))
        return fail(KILNRT_ERROR_INVALID_ARGUMENT,
                    "kilnrt_session_run: input " + std::to_string(k) + ": unknown buffer type " +
                        std::to_string(rawType(&inputs[k].type)));
      if (!inputs[k].data && inputs[k].bytes)
        return fail(KILNRT_ERROR_INVALID_ARGUMENT,
                    "kilnrt_session_run: input " + std::to_string(k) + ": data is NULL");
      in[k].data = inputs[k].data;
      in[k].bytes = inputs[k].bytes;
      if (k < m.inputs().size()) {
        const StreamDesc& s = m.inputs()[k];
        sizeMismatch |= in[k].bytes != size_t(streamElements(s)) * elementBytes(in[k].type, s);
        typeMismatch |= in[k].type == BufferType::UInt16 && s.bits == 8;
      }
    }
    for (size_t k = 0; k < output_count; ++k) {
      if (!toBufferType(rawType(&outputs[k].type), out[k].type))
        return fail(KILNRT_ERROR_INVALID_ARGUMENT,
                    "kilnrt_session_run: output " + std::to_string(k) + ": unknown buffer type " +
                        std::to_string(rawType(&outputs[k].type)));
      if (!outputs[k].data && outputs[k].bytes)
        return fail(KILNRT_ERROR_INVALID_ARGUMENT,
                    "kilnrt_session_run: output " + std::to_string(k) + ": data is NULL");
      out[k].data = outputs[k].data;
      out[k].bytes = outputs[k].bytes;
      if (k < m.outputs().size()) {
        const StreamDesc& s = m.outputs()[k];
        sizeMismatch |= out[k].bytes != size_t(streamElements(s)) * elementBytes(out[k].type, s);
        typeMismatch |= out[k].type == BufferType::UInt8 && s.bits == 16;
      }
    }
    try {
      session->session->run(in, out);
    } catch (const Error& e) {
      const bool counts = in.size() == m.inputs().size() && out.size() == m.outputs().size();
      return fail(counts && sizeMismatch && !typeMismatch ? KILNRT_ERROR_BUFFER_SIZE
                                                          : KILNRT_ERROR_INVALID_ARGUMENT,
                  e.what());
    }
    return KILNRT_OK;
  });
}

kilnrt_status kilnrt_session_last_run_seconds(const kilnrt_session* session, double* seconds) {
  if (!session || !session->session || !seconds)
    return fail(KILNRT_ERROR_INVALID_ARGUMENT,
                "kilnrt_session_last_run_seconds: NULL session or seconds");
  *seconds = session->session->lastRunSeconds();
  return KILNRT_OK;
}

}  // extern "C"
