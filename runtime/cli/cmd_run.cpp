// kilnrt run FILE.kef: throughput, latency and memory of one model.
#include <cstdio>

#include "runtime/cli/commands.h"
#include "runtime/cli/frames.h"

namespace kiln::rt::cli {

int cmdRun(const Args& args) {
  ArgParser ap(
      "run", "FILE.kef [--frames-count N] [--measure-latency] [options]",
      "Runs the executable frame after frame (on --threads CPU threads) and prints throughput "
      "(frames per second), with --measure-latency each frame's latency (min, p50, p90, "
      "p99, max, and how many frames they come from: p99 of 100 frames is the second "
      "slowest, take 1000 or more for a steady one), and memory: the process's peak "
      "resident set (VmHWM) beside the .kef "
      "file size and the activation arena. Latency includes the host conversions of the "
      "chosen formats.");
  ap.positional("FILE.kef", "The executable (from kiln compiler).");
  addCommonOptions(ap, true);
  ap.flag("--measure-latency", "Time every frame and print latency percentiles.");
  ap.flag("--profile",
          "Time every operation and print the 10 slowest (adds a little overhead per frame); "
          "with --json, every operation (kiln profiler --runtime-profile reads it).");
  ap.epilog("example:\n  kilnrt run digits_cnn.kef --frames-count 1000 --measure-latency\n");
  if (!ap.parse(args)) return 0;
  const int64_t frames = ap.getInt("--frames-count", 100, 1, int64_t(1) << 40);
  const int64_t warmup = ap.getInt("--warmup", 5, 0, int64_t(1) << 40);
  const std::string inFormat =
      ap.has("--input-format-type") ? ap.getChoice("--input-format-type", kFormatTypes) : "";
  const BufferType outType = parseBufferType(ap.getChoice("--user-format-type", kFormatTypes));
  const bool latency = ap.has("--measure-latency"), profile = ap.has("--profile");
  const bool json = ap.has("--json");

  const std::vector<std::string> files = ap.getAll("--input-files");
  const int threads = threadsOption(ap);
  Loaded l = load(ap.positionals("FILE.kef")[0], files, inFormat, outType, threads);
  runFrames(*l.session, l.feed, warmup, false);
  OpProfile prof;
  l.session->setProfiling(profile);
  const Measured m = runFrames(*l.session, l.feed, frames, latency, profile ? &prof : nullptr);
  const LatencyStats lat = latencyStats(m.frameSeconds);
  const Program& p = l.model->program();
  const int64_t rss = peakRssBytes(), arena = int64_t(l.session->arenaBytes());
  std::string inputs =
      files.empty() ? "random" : std::to_string(l.feed.samples()) + " sample(s) from --input-files";
  inputs += std::string(" (") + bufferTypeName(l.feed.inputTypes().at(0)) +
            (l.feed.inputTypes().size() > 1 ? ", ..." : "") + ")";
  if (json) {
    Json j = Json::object()
                 .set("file", l.model->path())
                 .set("net_name", p.meta.netName)
                 .set("inputs", inputs)
                 .set("frames", frames)
                 .set("warmup", warmup)
                 .set("threads", threads)
                 .set("kernel_path", kernelPathName(l.model->kernelPath()))
                 .set("seconds", m.seconds)
                 .set("fps", m.fps())
                 .set("ms_per_frame", m.msPerFrame());
    if (latency) j.set("latency_ms", latencyJson(lat));
    j.set("memory", Json::object()
                        .set("peak_rss_bytes", rss)
                        .set("kef_bytes", l.model->fileBytes())
                        .set("arena_bytes", arena)
                        .set("constant_bytes", constantBytes(p)));
    if (profile) j.set("profile", prof.toJson(p, p.ops.size()));  // every operation
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("Model       %s (%s, %s)\n", l.model->path().c_str(), p.meta.netName.c_str(),
              p.meta.hwArch.c_str());
  std::printf("Inputs      %s; outputs %s\n", inputs.c_str(), bufferTypeName(outType));
  std::printf("Frames      %lld measured after %lld warm-up, %d thread(s) on the CPU, %s kernels\n",
              static_cast<long long>(frames), static_cast<long long>(warmup), threads,
              kernelPathName(l.model->kernelPath()));
  std::printf("Throughput  %.1f FPS (%.4f ms per frame%s)\n", m.fps(), m.msPerFrame(),
              profile ? ", profiling on" : "");
  if (latency) printLatency(lat);
  std::printf("Memory      peak RSS %s (VmHWM), .kef file %s, activation arena %s\n",
              formatBytes(rss).c_str(), formatBytes(int64_t(l.model->fileBytes())).c_str(),
              formatBytes(arena).c_str());
  if (profile) prof.print(p);
  return 0;
}

}  // namespace kiln::rt::cli
