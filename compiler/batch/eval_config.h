// The `eval:` and `expect:` sections of a network config (or manifest entry): what `kiln eval`
// measures and the quality gates a build must pass. docs/batch.md lists the keys.
#pragma once

#include <string>

#include "compiler/batch/yaml_read.h"
#include "compiler/eval/eval_spec.h"

namespace kiln::batch {

/// `eval:` into `s` (data, size, labels, outputs); errors with their place go to `d`.
void readEvalSection(const Entry& e, const std::string& file, Diagnostics& d, eval::EvalSpec& s);
/// `expect:` into s.gates.
void readExpectSection(const Entry& e, const std::string& file, Diagnostics& d, eval::EvalSpec& s);

}  // namespace kiln::batch
