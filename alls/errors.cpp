#include "alls/errors.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace kiln::alls {

std::string caretLine(const std::string& lineText, int col) {
  std::string caret;
  for (int i = 0; i + 1 < col; ++i)
    caret += (static_cast<size_t>(i) < lineText.size() && lineText[i] == '\t') ? '\t' : ' ';
  return caret + '^';
}

std::string formatMessage(const SourcePos& pos, const std::string& severity, const std::string& what,
                          const std::string& lineText) {
  // Line 0 means the whole file (e.g. it cannot be read).
  std::string out = pos.line > 0 ? fmt::format("{}:{}:{}: {}: {}", pos.file, pos.line, pos.col, severity, what)
                                 : fmt::format("{}: {}: {}", pos.file, severity, what);
  if (!lineText.empty() && pos.line > 0) out += fmt::format("\n{}\n{}", lineText, caretLine(lineText, pos.col));
  return out;
}

ScriptError::ScriptError(const SourcePos& pos, const std::string& what, const std::string& lineText)
    : std::runtime_error(formatMessage(pos, "error", what, lineText)), pos_(pos), detail_(what) {}

size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::vector<std::string> closestNames(const std::string& name, const std::vector<std::string>& candidates,
                                      size_t n, bool typosOnly) {
  std::vector<std::pair<size_t, size_t>> scored;  // (distance, index)
  for (size_t i = 0; i < candidates.size(); ++i) {
    const size_t d = editDistance(name, candidates[i]);
    const std::string& c = candidates[i];
    const size_t longer = std::max(name.size(), c.size());
    const bool typo = d <= std::max<size_t>(2, longer / 3) && d < longer;
    // `calibset` for `calibset_size`, `percentile_force` for `percentile`.
    const bool prefix = std::min(name.size(), c.size()) >= 4 &&
                        (c.compare(0, name.size(), name) == 0 || name.compare(0, c.size(), c) == 0);
    if (!typosOnly || typo || prefix) scored.emplace_back(d, i);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::string> out;
  for (const auto& [d, i] : scored) {
    if (out.size() == n) break;
    // Typos: only the closest ones (within one edit of the best), or the prefix-related ones.
    const std::string& c = candidates[i];
    const bool prefix = std::min(name.size(), c.size()) >= 4 &&
                        (c.compare(0, name.size(), name) == 0 || name.compare(0, c.size(), c) == 0);
    if (typosOnly && d > scored.front().first + 1 && !prefix) continue;
    if (std::find(out.begin(), out.end(), candidates[i]) == out.end()) out.push_back(candidates[i]);
  }
  return out;
}

std::string joinNames(const std::vector<std::string>& names, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i ? sep : "") + names[i];
  return out;
}

}  // namespace kiln::alls
