// kilnrt run FILE.kef: throughput, latency and memory of one model.
// kilnrt benchmark FILE.kef [FILE2.kef ...]: the same for several models, plus load time and the
// cost of switching between models frame by frame.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "cli/args.h"
#include "cli/cli_util.h"
#include "cli/commands.h"

namespace kiln::rt::cli {

namespace {

using Clock = std::chrono::steady_clock;
const std::vector<std::string> kTypes = {"auto", "uint8", "uint16", "float32"};

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Measured {
  int64_t frames = 0;
  double seconds = 0;                // wall time of all frames
  std::vector<double> frameSeconds;  // per frame, when measured
  double fps() const { return seconds > 0 ? double(frames) / seconds : 0; }
  double msPerFrame() const { return frames ? seconds * 1e3 / double(frames) : 0; }
};

// Runs `frames` frames on one session; `perFrame` times each one (latency).
Measured runFrames(Session& s, FrameBuffers& fb, int64_t frames, bool perFrame,
                   OpProfile* prof = nullptr) {
  Measured m;
  m.frames = frames;
  const std::vector<OutputBuffer> outs = fb.outputs();
  const auto t0 = Clock::now();
  for (int64_t i = 0; i < frames; ++i) {
    const auto f0 = Clock::now();
    s.run(fb.inputs(i), outs);
    if (perFrame) m.frameSeconds.push_back(since(f0));
    if (prof) prof->add(s.opSeconds());
  }
  m.seconds = since(t0);
  return m;
}

Json latencyJson(const LatencyStats& l) {
  return Json::object()
      .set("min", l.minMs)
      .set("p50", l.p50Ms)
      .set("p90", l.p90Ms)
      .set("p99", l.p99Ms)
      .set("max", l.maxMs)
      .set("mean", l.meanMs);
}

void printLatency(const LatencyStats& l) {
  std::printf("Latency     min %.4f ms, p50 %.4f, p90 %.4f, p99 %.4f, max %.4f (mean %.4f)\n",
              l.minMs, l.p50Ms, l.p90Ms, l.p99Ms, l.maxMs, l.meanMs);
}

// A loaded model ready to run: its session and buffers.
struct Loaded {
  std::shared_ptr<const Model> model;
  std::unique_ptr<Session> session;
  FrameBuffers fb;
  double loadSeconds = 0;
};

Loaded load(const std::string& path, const std::vector<std::string>& inputFiles,
            const std::string& inFormat, BufferType outType) {
  Loaded l;
  const auto t0 = Clock::now();
  l.model = Model::open(path);
  l.session = std::make_unique<Session>(l.model);
  l.loadSeconds = since(t0);
  l.session->onWarning = warn;
  l.fb = inputFiles.empty() ? randomInputs(*l.model, inFormat)
                            : loadInputs(*l.model, inputFiles, inFormat);
  allocateOutputs(*l.model, outType, l.fb);
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
}

}  // namespace

int cmdRun(const Args& args) {
  ArgParser ap("run", "FILE.kef [--frames-count N] [--measure-latency] [options]",
               "Runs the executable frame after frame on one CPU thread and prints throughput "
               "(frames per second), with --measure-latency each frame's latency (min, p50, p90, "
               "p99, max), and memory: the process's peak resident set (VmHWM) beside the .kef "
               "file size and the activation arena. Latency includes the host conversions of the "
               "chosen formats.");
  ap.positional("FILE.kef", "The executable (from kiln compiler).");
  addCommonOptions(ap, true);
  ap.flag("--measure-latency", "Time every frame and print latency percentiles.");
  ap.flag("--profile",
          "Time every operation and print the 10 slowest (adds a little overhead per frame).");
  ap.epilog("example:\n  kilnrt run digits_cnn.kef --frames-count 1000 --measure-latency\n");
  if (!ap.parse(args)) return 0;
  const int64_t frames = ap.getInt("--frames-count", 100, 1, int64_t(1) << 40);
  const int64_t warmup = ap.getInt("--warmup", 5, 0, int64_t(1) << 40);
  const std::string inFormat =
      ap.has("--input-format-type") ? ap.getChoice("--input-format-type", kTypes) : "";
  const BufferType outType = parseBufferType(ap.getChoice("--user-format-type", kTypes));
  const bool latency = ap.has("--measure-latency"), profile = ap.has("--profile");
  const bool json = ap.has("--json");

  const std::vector<std::string> files = ap.getAll("--input-files");
  Loaded l = load(ap.positionals("FILE.kef")[0], files, inFormat, outType);
  runFrames(*l.session, l.fb, warmup, false);
  OpProfile prof;
  l.session->setProfiling(profile);
  const Measured m = runFrames(*l.session, l.fb, frames, latency, profile ? &prof : nullptr);
  const LatencyStats lat = latencyStats(m.frameSeconds);
  const Program& p = l.model->program();
  const int64_t rss = peakRssBytes(), arena = int64_t(l.session->arenaBytes());
  std::string inputs =
      files.empty() ? "random" : std::to_string(l.fb.samples) + " sample(s) from --input-files";
  inputs += std::string(" (") + bufferTypeName(l.fb.inTypes.at(0)) +
            (l.fb.inTypes.size() > 1 ? ", ..." : "") + ")";
  if (json) {
    Json j = Json::object()
                 .set("file", l.model->path())
                 .set("net_name", p.meta.netName)
                 .set("inputs", inputs)
                 .set("frames", frames)
                 .set("warmup", warmup)
                 .set("seconds", m.seconds)
                 .set("fps", m.fps())
                 .set("ms_per_frame", m.msPerFrame());
    if (latency) j.set("latency_ms", latencyJson(lat));
    j.set("memory", Json::object()
                        .set("peak_rss_bytes", rss)
                        .set("kef_bytes", l.model->fileBytes())
                        .set("arena_bytes", arena)
                        .set("constant_bytes", constantBytes(p)));
    if (profile) j.set("profile", prof.toJson(p));
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("Model       %s (%s, %s)\n", l.model->path().c_str(), p.meta.netName.c_str(),
              p.meta.hwArch.c_str());
  std::printf("Inputs      %s; outputs %s\n", inputs.c_str(), bufferTypeName(outType));
  std::printf("Frames      %lld measured after %lld warm-up, one thread on the CPU\n",
              static_cast<long long>(frames), static_cast<long long>(warmup));
  std::printf("Throughput  %.1f FPS (%.4f ms per frame%s)\n", m.fps(), m.msPerFrame(),
              profile ? ", profiling on" : "");
  if (latency) printLatency(lat);
  std::printf("Memory      peak RSS %s (VmHWM), .kef file %s, activation arena %s\n",
              formatBytes(rss).c_str(), formatBytes(int64_t(l.model->fileBytes())).c_str(),
              formatBytes(arena).c_str());
  if (profile) prof.print(p);
  return 0;
}

int cmdBenchmark(const Args& args) {
  ArgParser ap(
      "benchmark", "FILE.kef [FILE2.kef ...] [--frames-count N] [options]",
      "Measures every model: load time (open, validate, allocate a session), throughput and "
      "latency percentiles over random inputs. With two or more models, all stay loaded and "
      "the models are then run one after the other (each for N frames) and alternately frame "
      "by frame (A B A B ...): the switch cost is the alternating per-frame time minus the "
      "mean of the non-alternating per-frame times.");
  ap.positional("FILE.kef", "One or more executables.", true, true);
  addCommonOptions(ap, false);
  ap.epilog("example:\n  kilnrt benchmark digits_a8.kef digits_a16.kef --frames-count 500\n");
  if (!ap.parse(args)) return 0;
  const int64_t frames = ap.getInt("--frames-count", 100, 1, int64_t(1) << 40);
  const int64_t warmup = ap.getInt("--warmup", 5, 0, int64_t(1) << 40);
  const std::string inFormat =
      ap.has("--input-format-type") ? ap.getChoice("--input-format-type", kTypes) : "";
  const BufferType outType = parseBufferType(ap.getChoice("--user-format-type", kTypes));
  const bool json = ap.has("--json");

  std::vector<Loaded> models;
  Json list = Json::array();
  int width = 5;
  for (const std::string& path : ap.positionals("FILE.kef"))
    width = std::max(width, int(path.size()));
  if (!json)
    std::printf("%-*s %9s %11s %9s %9s %9s %9s %9s\n", width, "model", "load ms", "FPS", "mean ms",
                "p50 ms", "p90 ms", "p99 ms", "max ms");
  for (const std::string& path : ap.positionals("FILE.kef")) {
    models.push_back(load(path, {}, inFormat, outType));
    Loaded& l = models.back();
    runFrames(*l.session, l.fb, warmup, false);
    const Measured m = runFrames(*l.session, l.fb, frames, true);
    const LatencyStats lat = latencyStats(m.frameSeconds);
    if (json) {
      list.push(Json::object()
                    .set("file", path)
                    .set("load_ms", l.loadSeconds * 1e3)
                    .set("fps", m.fps())
                    .set("latency_ms", latencyJson(lat)));
    } else {
      std::printf("%-*s %9.3f %11.1f %9.4f %9.4f %9.4f %9.4f %9.4f\n", width, path.c_str(),
                  l.loadSeconds * 1e3, m.fps(), lat.meanMs, lat.p50Ms, lat.p90Ms, lat.p99Ms,
                  lat.maxMs);
    }
  }
  Json j = Json::object().set("frames", frames).set("warmup", warmup).set("models", list);
  if (models.size() >= 2) {
    // Non-alternating: each model for `frames` frames; then alternating frame by frame.
    double sequentialMs = 0;
    for (Loaded& l : models)
      sequentialMs += runFrames(*l.session, l.fb, frames, false).msPerFrame();
    sequentialMs /= double(models.size());
    std::vector<std::vector<OutputBuffer>> outs;
    for (Loaded& l : models) outs.push_back(l.fb.outputs());
    const int64_t total = frames * int64_t(models.size());
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < total; ++i) {
      const size_t k = size_t(i) % models.size();
      models[k].session->run(models[k].fb.inputs(i / int64_t(models.size())), outs[k]);
    }
    const double alternatingMs = since(t0) * 1e3 / double(total);
    const double cost = alternatingMs - sequentialMs;
    if (json) {
      j.set("switching", Json::object()
                             .set("models", models.size())
                             .set("frames", total)
                             .set("non_alternating_ms_per_frame", sequentialMs)
                             .set("alternating_ms_per_frame", alternatingMs)
                             .set("switch_cost_ms", cost));
    } else {
      std::printf("\nModel switching (%zu models, %lld frames alternating frame by frame)\n",
                  models.size(), static_cast<long long>(total));
      std::printf("  non-alternating  %.4f ms per frame (mean of the models' per-frame times)\n",
                  sequentialMs);
      std::printf("  alternating      %.4f ms per frame\n", alternatingMs);
      std::printf("  switch cost      %+.4f ms per switch\n", cost);
    }
  }
  const int64_t rss = peakRssBytes();
  if (json) {
    j.set("peak_rss_bytes", rss);
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("\nPeak RSS %s (VmHWM) with %zu model(s) loaded\n", formatBytes(rss).c_str(),
                models.size());
  }
  return 0;
}

}  // namespace kiln::rt::cli
