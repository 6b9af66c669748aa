#include "runtime/cli/frames.h"

#include <cstdio>

namespace kiln::rt::cli {

const std::vector<std::string> kFormatTypes = {"auto", "uint8", "uint16", "float32"};

Measured runFrames(Session& s, FrameFeeder& feed, int64_t frames, bool perFrame, OpProfile* prof) {
  Measured m;
  m.frames = frames;
  const auto t0 = Clock::now();
  for (int64_t i = 0; i < frames; ++i) {
    const double t = feed.runFrame(s, i);
    m.seconds += t;
    if (perFrame) m.frameSeconds.push_back(t);
    if (prof) prof->add(s.opSeconds());
  }
  m.wallSeconds = since(t0);
  return m;
}

Measured runForSeconds(Session& s, FrameFeeder& feed, double seconds) {
  Measured m;
  const auto t0 = Clock::now();
  do {
    const double t = feed.runFrame(s, m.frames++);
    m.seconds += t;
    m.frameSeconds.push_back(t);
  } while (since(t0) < seconds);
  m.wallSeconds = since(t0);
  return m;
}

Json latencyJson(const LatencyStats& l) {
  return Json::object()
      .set("frames", static_cast<long long>(l.frames))
      .set("min", l.minMs)
      .set("p50", l.p50Ms)
      .set("p90", l.p90Ms)
      .set("p99", l.p99Ms)
      .set("max", l.maxMs)
      .set("mean", l.meanMs);
}

void printLatency(const LatencyStats& l) {
  std::printf(
      "Latency     min %.4f ms, p50 %.4f, p90 %.4f, p99 %.4f (of %lld frames), max %.4f (mean "
      "%.4f)\n",
      l.minMs, l.p50Ms, l.p90Ms, l.p99Ms, static_cast<long long>(l.frames), l.maxMs, l.meanMs);
}

Loaded load(const std::string& path, const std::vector<std::string>& inputFiles,
            const std::string& inFormat, BufferType outType, int threads) {
  Loaded l;
  const auto t0 = Clock::now();
  l.model = Model::open(path);
  l.session = std::make_unique<Session>(l.model);
  l.session->setThreads(threads);
  l.loadSeconds = since(t0);
  l.session->onWarning = warn;
  l.feed = inputFiles.empty() ? FrameFeeder::random(*l.model, inFormat)
                              : FrameFeeder::fromFiles(*l.model, inputFiles, inFormat);
  l.feed.setOutputType(*l.model, outType);
  return l;
}

void addCommonOptions(ArgParser& ap, bool files) {
  ap.value("--frames-count", "N", "Frames to measure.", "100");
  ap.value("--warmup", "N", "Frames run first and not measured.", "5");
  if (files)
    ap.multi("--input-files", "A.npy",
             "Inputs as for kilnrt infer (one .npy per input; with N samples, frame i uses sample "
             "i mod N). Default: random inputs with a fixed seed.");
  ap.value("--input-format-type", "TYPE",
           "Input format (auto, uint8, uint16, float32): random inputs are device integers, or "
           "floats within limvals for float32 (default float32; with --input-files, each file's "
           "dtype).");
  ap.value("--user-format-type", "TYPE", "Output format (auto, uint8, uint16, float32).",
           "float32");
  ap.flag("--json", "Print the figures as one JSON object.");
  addThreadsOption(ap);
}

void addThreadsOption(ArgParser& ap) {
  ap.value("--threads", "N",
           "Threads each operation splits its output over (a persistent pool; the outputs are "
           "the same bytes for every N).",
           "1");
}

int threadsOption(const ArgParser& ap) {
  return int(ap.getInt("--threads", 1, 1, 256));
}

}  // namespace kiln::rt::cli
