/* The C API from C: opens the .kef given on the command line, lists its streams, runs it on
 * float32 zeros, and checks the error paths (status codes and messages).
 *
 *   c_api_test FILE.kef */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/api/kilnrt.h"

static int failures = 0;

#define CHECK(cond, ...)                           \
  do {                                             \
    if (!(cond)) {                                 \
      fprintf(stderr, "FAIL line %d: ", __LINE__); \
      fprintf(stderr, __VA_ARGS__);                \
      fprintf(stderr, "\n");                       \
      ++failures;                                  \
    }                                              \
  } while (0)

static int contains(const char* s, const char* part) {
  return s && strstr(s, part) != NULL;
}

static int warnings = 0;
static void on_warning(const char* msg, void* user) {
  (void)user;
  printf("warning callback: %s\n", msg);
  ++warnings;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: c_api_test FILE.kef\n");
    return 2;
  }
  kilnrt_model* model = NULL;
  kilnrt_status st = kilnrt_model_open(argv[1], &model);
  if (st != KILNRT_OK) {
    fprintf(stderr, "FAIL: cannot open %s: %s: %s\n", argv[1], kilnrt_status_name(st),
            kilnrt_last_error());
    return 1;
  }
  size_t n_in = 0, n_out = 0;
  CHECK(kilnrt_model_stream_count(model, KILNRT_INPUT, &n_in) == KILNRT_OK && n_in >= 1,
        "input count");
  CHECK(kilnrt_model_stream_count(model, KILNRT_OUTPUT, &n_out) == KILNRT_OK && n_out >= 1,
        "output count");

  kilnrt_input_buffer* ins = calloc(n_in + 1, sizeof *ins); /* + 1: see "extra input" */
  kilnrt_output_buffer* outs = calloc(n_out, sizeof *outs);
  for (size_t k = 0; k < n_in + n_out; ++k) {
    const int is_in = k < n_in;
    const size_t idx = is_in ? k : k - n_in;
    kilnrt_stream_info info;
    st = kilnrt_model_stream_info(model, is_in ? KILNRT_INPUT : KILNRT_OUTPUT, idx, &info);
    CHECK(st == KILNRT_OK, "stream info %zu: %s", k, kilnrt_last_error());
    if (st != KILNRT_OK) return 1;
    printf("%s %zu: %s rank %d [", is_in ? "input" : "output", idx, info.name, (int)info.rank);
    for (int d = 0; d < info.rank; ++d) printf("%s%lld", d ? ", " : "", (long long)info.shape[d]);
    printf("] %s uint%d qp_scale %g qp_zp %lld limvals [%g, %g]\n", info.layout, (int)info.bits,
           info.qp_scale, (long long)info.qp_zp, (double)info.limvals_min,
           (double)info.limvals_max);
    CHECK(info.bits == 8 || info.bits == 16, "bits");
    CHECK(info.qp_scale > 0, "qp_scale");
    CHECK(info.limvals_min <= info.limvals_max, "limvals");
    const size_t bytes = kilnrt_stream_buffer_bytes(&info, KILNRT_BUFFER_FLOAT32);
    CHECK(bytes == info.elements * 4, "float32 bytes");
    if (is_in) {
      ins[idx].data = calloc(bytes, 1);
      ins[idx].bytes = bytes;
      ins[idx].type = KILNRT_BUFFER_FLOAT32;
    } else {
      outs[idx].data = calloc(bytes, 1);
      outs[idx].bytes = bytes;
      outs[idx].type = KILNRT_BUFFER_FLOAT32;
    }
  }

  kilnrt_session* session = NULL;
  CHECK(kilnrt_session_create(model, &session) == KILNRT_OK, "session: %s", kilnrt_last_error());
  CHECK(kilnrt_session_set_warning_callback(session, on_warning, NULL) == KILNRT_OK, "callback");
  st = kilnrt_session_run(session, ins, n_in, outs, n_out);
  CHECK(st == KILNRT_OK, "run: %s: %s", kilnrt_status_name(st), kilnrt_last_error());
  double secs = -1;
  CHECK(kilnrt_session_last_run_seconds(session, &secs) == KILNRT_OK && secs >= 0, "seconds");
  printf("ran on float32 zeros in %.6f s; output 0 starts with %g\n", secs,
         (double)((const float*)outs[0].data)[0]);

  /* Wrong byte size: KILNRT_ERROR_BUFFER_SIZE, the message gives expected and given sizes. */
  char given[32];
  const size_t right = ins[0].bytes;
  ins[0].bytes = right - 4;
  snprintf(given, sizeof given, "%zu bytes", right - 4);
  st = kilnrt_session_run(session, ins, n_in, outs, n_out);
  printf("short input buffer: %s: %s\n", kilnrt_status_name(st), kilnrt_last_error());
  CHECK(st == KILNRT_ERROR_BUFFER_SIZE, "short buffer gave %s", kilnrt_status_name(st));
  CHECK(contains(kilnrt_last_error(), "expected") && contains(kilnrt_last_error(), given),
        "message should give expected and given sizes: %s", kilnrt_last_error());
  ins[0].bytes = right;
  outs[0].bytes += 1;
  st = kilnrt_session_run(session, ins, n_in, outs, n_out);
  CHECK(st == KILNRT_ERROR_BUFFER_SIZE && contains(kilnrt_last_error(), "output"),
        "long output buffer: %s %s", kilnrt_status_name(st), kilnrt_last_error());
  outs[0].bytes -= 1;

  /* Wrong counts, bad types, NULLs: invalid arguments. */
  ins[n_in] = ins[0];
  st = kilnrt_session_run(session, ins, n_in + 1, outs, n_out);
  CHECK(st == KILNRT_ERROR_INVALID_ARGUMENT && contains(kilnrt_last_error(), "input stream"),
        "extra input: %s %s", kilnrt_status_name(st), kilnrt_last_error());
  st = kilnrt_session_run(session, NULL, n_in, outs, n_out);
  CHECK(st == KILNRT_ERROR_INVALID_ARGUMENT, "NULL inputs: %s", kilnrt_status_name(st));
  st = kilnrt_session_run(NULL, ins, n_in, outs, n_out);
  CHECK(st == KILNRT_ERROR_INVALID_ARGUMENT, "NULL session");
  ins[0].type = (kilnrt_buffer_type)42;
  st = kilnrt_session_run(session, ins, n_in, outs, n_out);
  CHECK(st == KILNRT_ERROR_INVALID_ARGUMENT && contains(kilnrt_last_error(), "42"),
        "bad type: %s %s", kilnrt_status_name(st), kilnrt_last_error());
  ins[0].type = KILNRT_BUFFER_FLOAT32;
  /* The session still works after errors. */
  CHECK(kilnrt_session_run(session, ins, n_in, outs, n_out) == KILNRT_OK, "run after errors");

  /* Threads: the same output bytes on two threads; 0 threads is an invalid argument. */
  {
    const size_t n = outs[0].bytes;
    unsigned char* one = malloc(n);
    memcpy(one, outs[0].data, n);
    CHECK(kilnrt_session_set_threads(session, 2) == KILNRT_OK, "2 threads: %s",
          kilnrt_last_error());
    CHECK(kilnrt_session_run(session, ins, n_in, outs, n_out) == KILNRT_OK, "run on 2 threads");
    CHECK(memcmp(one, outs[0].data, n) == 0, "2 threads changed the output");
    st = kilnrt_session_set_threads(session, 0);
    CHECK(st == KILNRT_ERROR_INVALID_ARGUMENT && contains(kilnrt_last_error(), "threads"),
          "0 threads: %s %s", kilnrt_status_name(st), kilnrt_last_error());
    CHECK(kilnrt_session_set_threads(NULL, 2) == KILNRT_ERROR_INVALID_ARGUMENT, "NULL session");
    free(one);
  }

  kilnrt_stream_info info;
  st = kilnrt_model_stream_info(model, KILNRT_INPUT, n_in, &info);
  CHECK(st == KILNRT_ERROR_INVALID_ARGUMENT && contains(kilnrt_last_error(), "out of range"),
        "stream index out of range: %s", kilnrt_last_error());
  CHECK(kilnrt_model_stream_count(NULL, KILNRT_INPUT, &n_in) == KILNRT_ERROR_INVALID_ARGUMENT,
        "NULL model");

  kilnrt_model* other = (kilnrt_model*)1;
  st = kilnrt_model_open("/nonexistent/model.kef", &other);
  CHECK(st == KILNRT_ERROR_IO && other == NULL && contains(kilnrt_last_error(), "nonexistent"),
        "missing file: %s %s", kilnrt_status_name(st), kilnrt_last_error());
  st = kilnrt_model_open(argv[0], &other); /* this program: not a .kef */
  CHECK(st == KILNRT_ERROR_FORMAT && contains(kilnrt_last_error(), "not a Kiln executable"),
        "not a kef: %s %s", kilnrt_status_name(st), kilnrt_last_error());
  CHECK(kilnrt_model_open(NULL, &other) == KILNRT_ERROR_INVALID_ARGUMENT, "NULL path");
  CHECK(strcmp(kilnrt_status_name(KILNRT_ERROR_FORMAT), "KILNRT_ERROR_FORMAT") == 0, "names");

  /* The session keeps the model alive after the handle is closed. */
  kilnrt_model_close(model);
  CHECK(kilnrt_session_run(session, ins, n_in, outs, n_out) == KILNRT_OK, "run after close: %s",
        kilnrt_last_error());
  kilnrt_session_destroy(session);
  kilnrt_session_destroy(NULL);
  kilnrt_model_close(NULL);
  for (size_t k = 0; k < n_in; ++k) free((void*)ins[k].data);
  for (size_t k = 0; k < n_out; ++k) free(outs[k].data);
  free(ins);
  free(outs);
  printf("%s (%d failure(s), %d warning(s))\n", failures ? "FAILED" : "passed", failures, warnings);
  return failures ? 1 : 0;
}
