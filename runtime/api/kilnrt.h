/* The Kiln runtime's C API: open a .kef executable, list its streams, run it on user buffers.
 * A thin wrapper over the C++ API (runtime.h); see docs/runtime.md.
 *
 * Every function returns a kilnrt_status (or nothing, for the destructors); on failure
 * kilnrt_last_error() gives a one-line message (thread-local, valid until the next failing call
 * on the same thread). No function throws or aborts on bad input.
 *
 * Threading: a model may be shared by sessions on several threads; a session is used by one
 * thread at a time. A session keeps its model alive: kilnrt_model_close may come first. */
#ifndef KILNRT_H
#define KILNRT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kilnrt_status {
  KILNRT_OK = 0,
  KILNRT_ERROR_INVALID_ARGUMENT = 1, /* NULL pointer, bad index, wrong buffer count or type */
  KILNRT_ERROR_IO = 2,               /* the file cannot be opened or read */
  KILNRT_ERROR_FORMAT = 3,           /* not a valid .kef (corrupted, truncated, unsupported) */
  KILNRT_ERROR_BUFFER_SIZE = 4,      /* a buffer's byte size differs from the stream's */
  KILNRT_ERROR_OUT_OF_MEMORY = 5,
  KILNRT_ERROR_INTERNAL = 6
} kilnrt_status;

/* Element type of a user buffer. AUTO = the stream's device type (uint8 or uint16). */
typedef enum kilnrt_buffer_type {
  KILNRT_BUFFER_AUTO = 0,
  KILNRT_BUFFER_UINT8 = 1,
  KILNRT_BUFFER_UINT16 = 2,
  KILNRT_BUFFER_FLOAT32 = 3
} kilnrt_buffer_type;

typedef enum kilnrt_stream_kind { KILNRT_INPUT = 0, KILNRT_OUTPUT = 1 } kilnrt_stream_kind;

#define KILNRT_MAX_RANK 8

/* A stream as the host sees it. The strings belong to the model (valid until it is freed). */
typedef struct kilnrt_stream_info {
  const char* name;   /* the ONNX tensor name */
  const char* layout; /* "NCHW", "NHWC" or "" */
  int32_t rank;
  int64_t shape[KILNRT_MAX_RANK];
  size_t elements; /* product of the shape */
  int32_t bits;    /* device type: 8 = uint8, 16 = uint16 */
  double qp_scale;
  int64_t qp_zp;
  float limvals_min, limvals_max;
} kilnrt_stream_info;

typedef struct kilnrt_input_buffer {
  const void* data;
  size_t bytes; /* must equal elements x element size of `type` */
  kilnrt_buffer_type type;
} kilnrt_input_buffer;

typedef struct kilnrt_output_buffer {
  void* data;
  size_t bytes;
  kilnrt_buffer_type type;
} kilnrt_output_buffer;

typedef struct kilnrt_model kilnrt_model;
typedef struct kilnrt_session kilnrt_session;

/* Opens (memory-maps) and validates a .kef file. */
kilnrt_status kilnrt_model_open(const char* path, kilnrt_model** model);
/* Releases the caller's handle (NULL is fine). Sessions keep the model alive. */
void kilnrt_model_close(kilnrt_model* model);

kilnrt_status kilnrt_model_stream_count(const kilnrt_model* model, kilnrt_stream_kind kind,
                                        size_t* count);
kilnrt_status kilnrt_model_stream_info(const kilnrt_model* model, kilnrt_stream_kind kind,
                                       size_t index, kilnrt_stream_info* info);
/* Bytes of a buffer of `type` for the stream (elements x 1, 2 or 4). */
size_t kilnrt_stream_buffer_bytes(const kilnrt_stream_info* info, kilnrt_buffer_type type);

/* A session holds the activation memory of one model. */
kilnrt_status kilnrt_session_create(const kilnrt_model* model, kilnrt_session** session);
void kilnrt_session_destroy(kilnrt_session* session);

/* Runs one frame. Buffers in stream order, one per stream. float32 inputs are quantized on the
 * host, float32 outputs dequantized; uint16 data into a uint8 input stream is an error; uint8
 * data into a uint16 stream is widened (the warning callback is told once per session). */
kilnrt_status kilnrt_session_run(kilnrt_session* session, const kilnrt_input_buffer* inputs,
                                 size_t input_count, const kilnrt_output_buffer* outputs,
                                 size_t output_count);
/* Seconds the last successful run took (host conversions included). */
kilnrt_status kilnrt_session_last_run_seconds(const kilnrt_session* session, double* seconds);

typedef void (*kilnrt_warning_fn)(const char* message, void* user_data);
/* Receives warnings of this session (NULL: warnings are dropped, the default). */
kilnrt_status kilnrt_session_set_warning_callback(kilnrt_session* session, kilnrt_warning_fn fn,
                                                  void* user_data);
/* Threads each operation may split its output over (1 to 256; default 1). The outputs are the
   same bytes for every count. */
kilnrt_status kilnrt_session_set_threads(kilnrt_session* session, int threads);

/* The message of the last failing call on this thread ("" when none). */
const char* kilnrt_last_error(void);
/* "KILNRT_OK", "KILNRT_ERROR_BUFFER_SIZE", ... */
const char* kilnrt_status_name(kilnrt_status status);

#ifdef __cplusplus
}
#endif

#endif /* KILNRT_H */
