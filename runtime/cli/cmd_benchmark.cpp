// kilnrt benchmark FILE.kef [FILE2.kef ...]: load time, throughput and latency of each model,
// and with two or more the cost of switching between them frame by frame, measured over rounds
// so that it comes with its spread.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "runtime/cli/commands.h"
#include "runtime/cli/frames.h"

namespace kiln::rt::cli {

namespace {

// One round: each model alone, then all of them alternating frame by frame.
struct SwitchRound {
  double sequentialMs = 0;   // mean of the models' per-frame times, each run alone
  double alternatingMs = 0;  // per-frame time alternating A B A B ...
  double cost() const { return alternatingMs - sequentialMs; }
};

double sequentialRound(std::vector<Loaded>& models, int64_t frames) {
  double ms = 0;
  for (Loaded& l : models) ms += runFrames(*l.session, l.feed, frames, false).msPerFrame();
  return ms / double(models.size());
}

double alternatingRound(std::vector<Loaded>& models, int64_t frames) {
  const int64_t total = frames * int64_t(models.size());
  double seconds = 0;
  for (int64_t i = 0; i < total; ++i) {
    Loaded& l = models[size_t(i) % models.size()];
    seconds += l.feed.runFrame(*l.session, i / int64_t(models.size()));
  }
  return seconds * 1e3 / double(total);
}

struct SwitchStats {
  std::vector<SwitchRound> rounds;
  double sequentialMs = 0, alternatingMs = 0, costMs = 0, sdMs = 0, minMs = 0, maxMs = 0;
  // Only a cost larger than the round-to-round spread is a measurement (needs 2 rounds or more).
  bool withinNoise() const { return std::fabs(costMs) < sdMs; }
};

// `rounds` rounds of `frames` frames per model and phase. The phases swap order every round, so
// that a drift of the machine's speed (frequency, other jobs) falls on both alike.
SwitchStats measureSwitching(std::vector<Loaded>& models, int64_t rounds, int64_t frames) {
  SwitchStats s;
  for (int64_t r = 0; r < rounds; ++r) {
    SwitchRound round;
    if (r % 2 == 0) {
      round.sequentialMs = sequentialRound(models, frames);
      round.alternatingMs = alternatingRound(models, frames);
    } else {
      round.alternatingMs = alternatingRound(models, frames);
      round.sequentialMs = sequentialRound(models, frames);
    }
    s.rounds.push_back(round);
  }
  const double n = double(s.rounds.size());
  s.minMs = s.maxMs = s.rounds[0].cost();
  for (const SwitchRound& r : s.rounds) {
    s.sequentialMs += r.sequentialMs / n;
    s.alternatingMs += r.alternatingMs / n;
    s.costMs += r.cost() / n;
    s.minMs = std::min(s.minMs, r.cost());
    s.maxMs = std::max(s.maxMs, r.cost());
  }
  for (const SwitchRound& r : s.rounds) s.sdMs += (r.cost() - s.costMs) * (r.cost() - s.costMs);
  s.sdMs = n > 1 ? std::sqrt(s.sdMs / (n - 1)) : 0;
  return s;
}

Json switchingJson(const SwitchStats& s, size_t models, int64_t frames) {
  Json costs = Json::array();
  for (const SwitchRound& r : s.rounds) costs.push(r.cost());
  return Json::object()
      .set("models", models)
      .set("frames", static_cast<long long>(frames * int64_t(models * s.rounds.size())))
      .set("rounds", s.rounds.size())
      .set("frames_per_round", static_cast<long long>(frames))
      .set("non_alternating_ms_per_frame", s.sequentialMs)
      .set("alternating_ms_per_frame", s.alternatingMs)
      .set("switch_cost_ms", s.costMs)
      .set("switch_cost_sd_ms", s.sdMs)
      .set("switch_cost_min_ms", s.minMs)
      .set("switch_cost_max_ms", s.maxMs)
      .set("round_switch_costs_ms", costs)
      .set("within_noise", s.rounds.size() < 2 ? Json() : Json(s.withinNoise()));
}

void printSwitching(const SwitchStats& s, size_t models, int64_t frames) {
  std::printf(
      "\nModel switching (%zu models; %zu round%s of %lld frame%s per model alone, then %lld "
      "alternating frame by frame)\n",
      models, s.rounds.size(), s.rounds.size() == 1 ? "" : "s", static_cast<long long>(frames),
      frames == 1 ? "" : "s", static_cast<long long>(frames * int64_t(models)));
  std::printf("  non-alternating  %.4f ms per frame (mean of the models' per-frame times)\n",
              s.sequentialMs);
  std::printf("  alternating      %.4f ms per frame\n", s.alternatingMs);
  if (s.rounds.size() < 2) {
    std::printf(
        "  switch cost      %+.4f ms per switch (one round: no spread, use --rounds 2 or "
        "more)\n",
        s.costMs);
    return;
  }
  std::printf("  switch cost      %+.4f ms per switch (sd %.4f, rounds %+.4f..%+.4f): %s\n",
              s.costMs, s.sdMs, s.minMs, s.maxMs,
              s.withinNoise() ? "within measurement noise" : "above the round-to-round spread");
}

// -t SECONDS: a positive duration of at most a day.
double secondsOption(const std::string& text) {
  char* end = nullptr;
  const double s = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !(s > 0 && s <= 86400))
    throw UsageError("benchmark: -t expects a number of seconds in (0, 86400], got '" + text + "'");
  return s;
}

}  // namespace

int cmdBenchmark(const Args& args) {
  ArgParser ap(
      "benchmark",
      "FILE.kef [FILE2.kef ...] [--frames-count N | -t SECONDS] [--rounds R] [options]",
      "Measures every model: load time (open and validate, allocate a session), throughput and "
      "latency percentiles over random inputs, for --frames-count frames or, with -t, for as "
      "many frames as SECONDS allow (the frames column says how many ran). With two or more "
      "models, all stay loaded and the "
      "switch cost is measured in rounds: each round runs every model alone for N/R frames, "
      "then all of them alternating frame by frame (A B A B ...) for N/R frames each; a round's "
      "switch cost is its alternating per-frame time minus the mean of the models' alone "
      "per-frame times. The mean over the rounds is printed with its standard deviation and "
      "range, and called within measurement noise when its magnitude is below the standard "
      "deviation.");
  ap.positional("FILE.kef", "One or more executables.", true, true);
  addCommonOptions(ap, false);
  ap.value("-t", "SECONDS",
           "Run each model for SECONDS seconds (at least one frame) instead of a frame count; "
           "the switch-cost rounds then take the frames of the slowest model.");
  ap.value("--rounds", "R", "Rounds of the switch-cost measurement.", "5");
  ap.epilog(
      "examples:\n  kilnrt benchmark digits_a8.kef digits_a16.kef --frames-count 500\n"
      "  kilnrt benchmark ppocr_v4_det.kef -t 10\n");
  if (!ap.parse(args)) return 0;
  int64_t frames = ap.getInt("--frames-count", 100, 1, int64_t(1) << 40);
  const double seconds = ap.has("-t") ? secondsOption(ap.get("-t")) : 0;
  if (seconds > 0 && ap.has("--frames-count"))
    throw UsageError("benchmark: give either --frames-count or -t, not both");
  const int64_t warmup = ap.getInt("--warmup", 5, 0, int64_t(1) << 40);
  const int64_t rounds = ap.getInt("--rounds", 5, 1, 10000);
  const std::string inFormat =
      ap.has("--input-format-type") ? ap.getChoice("--input-format-type", kFormatTypes) : "";
  const BufferType outType = parseBufferType(ap.getChoice("--user-format-type", kFormatTypes));
  const bool json = ap.has("--json");
  const int threads = threadsOption(ap);

  std::vector<Loaded> models;
  Json list = Json::array();
  int width = 5;
  for (const std::string& path : ap.positionals("FILE.kef"))
    width = std::max(width, int(path.size()));
  if (!json)
    std::printf("%-*s %9s %9s %11s %9s %9s %9s %9s %9s\n", width, "model", "load ms", "frames",
                "FPS", "mean ms", "p50 ms", "p90 ms", "p99 ms", "max ms");
  int64_t fewestFrames = frames;
  for (const std::string& path : ap.positionals("FILE.kef")) {
    models.push_back(load(path, {}, inFormat, outType, threads));
    Loaded& l = models.back();
    runFrames(*l.session, l.feed, warmup, false);
    const Measured m = seconds > 0 ? runForSeconds(*l.session, l.feed, seconds)
                                   : runFrames(*l.session, l.feed, frames, true);
    fewestFrames = models.size() == 1 ? m.frames : std::min(fewestFrames, m.frames);
    const LatencyStats lat = latencyStats(m.frameSeconds);
    if (json) {
      list.push(Json::object()
                    .set("file", path)
                    .set("load_ms", l.loadSeconds * 1e3)
                    .set("threads", threads)
                    .set("kernel_path", kernelPathName(l.model->kernelPath()))
                    .set("frames", static_cast<long long>(m.frames))
                    .set("seconds", m.seconds)
                    .set("wall_seconds", m.wallSeconds)
                    .set("fps", m.fps())
                    .set("latency_ms", latencyJson(lat)));
    } else {
      std::printf("%-*s %9.3f %9lld %11.1f %9.4f %9.4f %9.4f %9.4f %9.4f\n", width, path.c_str(),
                  l.loadSeconds * 1e3, static_cast<long long>(m.frames), m.fps(), lat.meanMs,
                  lat.p50Ms, lat.p90Ms, lat.p99Ms, lat.maxMs);
    }
  }
  const char* path = kernelPathName(models.front().model->kernelPath());
  if (!json && seconds > 0)
    std::printf(
        "(latency percentiles of the frames each model ran in %g s, %d thread(s), %s kernels)\n",
        seconds, threads, path);
  else if (!json)
    std::printf("(latency percentiles of %lld frames per model, %d thread(s), %s kernels)\n",
                static_cast<long long>(frames), threads, path);
  if (seconds > 0) frames = fewestFrames;  // the switch-cost rounds share it out
  Json j = Json::object().set("warmup", warmup).set("models", list);
  if (seconds > 0)
    j.set("seconds", seconds);
  else
    j.set("frames", frames);
  if (models.size() >= 2) {
    // The same frames in all as one long measurement would take, split into rounds.
    const int64_t perRound = std::max<int64_t>(1, (frames + rounds - 1) / rounds);
    const SwitchStats s = measureSwitching(models, rounds, perRound);
    if (json)
      j.set("switching", switchingJson(s, models.size(), perRound));
    else
      printSwitching(s, models.size(), perRound);
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
