// `kiln optimize --target-snr DB` / `--target-gates CONFIG`: automatic mixed precision. Starting
// from the user's script, rounds of (optimize, measure every output on held-out data); while an
// output misses the target (or a quality gate of the config fails), the advanced noise analysis
// (compiler/optimize/noise_analysis.h) ranks the tensors to lift to 16 bits, and the fewest that
// are expected to close the gap within the activation-byte budget are added as script lines. The
// chosen script is written as <output>.mixed.alls before each round's optimize, so the archive
// records it and `kiln optimize --model-script <output>.mixed.alls` rebuilds the same archive byte
// for byte. The Python API (ClientRunner.optimize(target_snr=...)) calls the same search.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "compiler/archive/archive.h"
#include "compiler/eval/eval_spec.h"
#include "compiler/noise/held_out.h"
#include "compiler/optimize/optimizer.h"

namespace kiln::noise {

struct MixedPrecisionOptions {
  double targetSnrDb = 0;
  double max16BitFraction = 0.25;  // of activation bytes (every layer output counted once)
  HeldOutData data;                // held-out samples (--data-path, --data-size)
  int maxRounds = 6;
  /// --target-gates: judge each round by these quality gates (a network config's `eval:`
  /// outputs and `expect:` gates, checked on the held-out data) instead of targetSnrDb, and rank
  /// the tensors by their effect on the failing gates (compiler/noise/gate_search.h).
  std::optional<eval::EvalSpec> gates;
  std::string gatesFrom;        // the config, for messages and the script's comment
  size_t maxLinesPerRound = 4;  // with gates: lines added per round at most
  /// With gates: layers with weights tried whole (a16_w16) per round, each by building it and
  /// measuring the gates (a trial optimize each); 0 lifts single tensors only, as ranked.
  size_t maxTrials = 3;
  std::string hwArch = "hailo8";
  std::string scriptOut;    // <output>.mixed.alls: names the script in the archive
  bool writeScript = true;  // write scriptOut before each round (else the script stays in memory)
};

struct MixedPrecisionResult {
  Archive archive;
  bool met = false;
  std::string script;   // the chosen script's text (what scriptOut holds)
  std::string summary;  // the choice, its cost and the outputs' SNR, for the terminal
  nlohmann::json json;  // the same for <output>.mixed.json
};

/// Runs the search; the user's script is `o.scriptText`, else the file `o.scriptPath` (may be
/// empty), and is replaced by m.scriptOut for the rounds.
MixedPrecisionResult searchMixedPrecision(const Archive& parsed, optimize::OptimizeOptions o,
                                          const MixedPrecisionOptions& m);

/// Fraction of activation bytes (every non-output layer's output, at 1 or 2 bytes per element)
/// held in 16 bits.
double sixteenBitFraction(const Graph& g);

}  // namespace kiln::noise
