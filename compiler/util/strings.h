// Small string helpers shared by the CLI, the importer and the script parser.
#pragma once

#include <string>
#include <vector>

namespace kiln {

/// Levenshtein distance.
size_t editDistance(const std::string& a, const std::string& b);
/// Up to `n` candidates closest to `query`, best first (for "did you mean" hints). With
/// `typosOnly`, only plausible typos qualify: within max(2, length/3) edits and within one edit of
/// the best, or sharing a prefix of 4+ characters (`calibset` for `calibset_size`).
std::vector<std::string> closestNames(const std::vector<std::string>& candidates,
                                      const std::string& query, size_t n = 3,
                                      bool typosOnly = false);
/// Joins with a separator.
std::string join(const std::vector<std::string>& v, const std::string& sep);
/// Replaces characters outside [A-Za-z0-9._-] by '_' (output file names).
std::string sanitizeFileName(const std::string& s);

}  // namespace kiln
