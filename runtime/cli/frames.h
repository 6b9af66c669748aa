// What kilnrt run and kilnrt benchmark share: loading a model with its buffers, running frames
// and timing them, and the options and latency lines both print.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "runtime/cli/args.h"
#include "runtime/cli/cli_util.h"
#include "runtime/cli/frame_feed.h"

namespace kiln::rt::cli {

using Clock = std::chrono::steady_clock;
/// The --input-format-type / --user-format-type choices.
extern const std::vector<std::string> kFormatTypes;

inline double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Measured {
  int64_t frames = 0;
  double seconds = 0;                // the session's time of all frames (FrameFeeder::runFrame)
  double wallSeconds = 0;            // the loop's, with reading the inputs (files, random draws)
  std::vector<double> frameSeconds;  // per frame, when measured
  double fps() const { return seconds > 0 ? double(frames) / seconds : 0; }
  double msPerFrame() const { return frames ? seconds * 1e3 / double(frames) : 0; }
};

/// Runs `frames` frames on one session; `perFrame` keeps each one's time (latency).
Measured runFrames(Session& s, FrameFeeder& feed, int64_t frames, bool perFrame,
                   OpProfile* prof = nullptr);
/// Runs frames until `seconds` of wall time have passed (at least one frame), timing each one.
Measured runForSeconds(Session& s, FrameFeeder& feed, double seconds);

/// min/p50/p90/p99/max/mean in ms, and the number of frames they come from.
Json latencyJson(const LatencyStats& l);
/// "Latency     min ... ms, p50 ..., p90 ..., p99 ... (of N frames), max ..." on stdout.
void printLatency(const LatencyStats& l);

/// A loaded model ready to run: its session and what feeds its frames.
struct Loaded {
  std::shared_ptr<const Model> model;
  std::unique_ptr<Session> session;
  FrameFeeder feed;
  double loadSeconds = 0;  // open (validation included) + session (arena)
};
/// Opens `path`, creates a session, prepares inputs (from files, or random) and outputs.
Loaded load(const std::string& path, const std::vector<std::string>& inputFiles,
            const std::string& inFormat, BufferType outType, int threads = 1);

/// --frames-count, --warmup, [--input-files], --input-format-type, --user-format-type, --json,
/// --threads.
void addCommonOptions(ArgParser& ap, bool files);
/// --threads N (the session's thread count).
void addThreadsOption(ArgParser& ap);
int threadsOption(const ArgParser& ap);

}  // namespace kiln::rt::cli
