// The steps of `kiln optimize`, in the order optimize() (optimizer.cpp) runs them, one file each
// (step_<name>.cpp). Each reads and fills the shared OptimizeState; messages go to the options'
// info and warn callbacks.
#pragma once

#include "compiler/optimize/optimize_state.h"

namespace kiln::optimize {

/// Reads, validates and applies the model script (float graph changes happen here), and decides
/// from its settings what the later steps do (step_script.cpp).
void stepScript(OptimizeState& s);

/// Loads the calibration set (or random data) in the network inputs' own layout
/// (step_calibrate.cpp).
void stepCalibrate(OptimizeState& s);

/// Cross-layer equalization, on the per-channel ranges of a short first calibration pass
/// (step_equalize.cpp).
void stepEqualize(OptimizeState& s);

/// Calibration statistics of the equalized graph, then the ranges the script sets:
/// activation_clipping, force_range_out, force_range_in (step_select_ranges.cpp).
void stepSelectRanges(OptimizeState& s);

/// Per-layer precision: the script's precision_mode, then compression_level's 4-bit weights, and
/// 16-bit outputs (step_assign_precision.cpp).
void stepAssignPrecision(OptimizeState& s);

/// Range selection, second part: each 8-bit tensor whose range the script does not set gets the
/// range of least expected error (needs the bits stepAssignPrecision decided;
/// step_select_ranges.cpp).
void stepSelectLeastErrorRanges(OptimizeState& s);

/// The integer parameters of every layer (quant::prepareQuantization), and how many narrowed
/// ranges the layers kept (step_prepare.cpp).
void stepPrepare(OptimizeState& s);

/// Catches ranges that exclude most of a sign that matters (a decision tensor's positive side,
/// or a side the range, not the grid, excludes): warnings and the report's range_findings
/// (step_check_ranges.cpp).
void stepCheckRanges(OptimizeState& s);

/// Bias correction and error-compensating weight rounding, layer by layer on calibration samples
/// (step_correct.cpp).
void stepCorrect(OptimizeState& s);

/// The noise report, written with the script into the archive's extra entries; marks the archive
/// optimized (step_report.cpp).
void stepReport(OptimizeState& s);

}  // namespace kiln::optimize
