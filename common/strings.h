// Small string helpers shared by the CLI, the importer and the script parser.
#pragma once

#include <cstdint>
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
/// Replaces characters outside [A-Za-z0-9._-] by '_' (output file names); "", "." and ".." get a
/// leading '_'. `kiln infer` and `kilnrt infer` name their output files with it.
std::string sanitizeFileName(const std::string& s);
/// "[1, 3, 224, 224]".
std::string shapeStr(const std::vector<int64_t>& shape);
/// `v` in printf's %g form with `digits` significant digits ("0.0039", "1e+10"), for messages.
std::string shortNumber(double v, int digits = 4);
/// "512 B", "12.5 KB", "3.20 MB", "1.05 GB" (decimal units); "n/a" for a negative count.
std::string formatBytes(int64_t bytes);
/// Byte offset of the first byte of `s` that is not valid UTF-8 (a stray continuation byte, a
/// truncated or overlong sequence, a surrogate or a code point above U+10FFFF), or
/// std::string::npos when all of `s` is valid UTF-8.
size_t invalidUtf8Offset(const std::string& s);
/// `s` for quoting in a message: valid UTF-8 is kept, every invalid byte becomes "\xHH".
std::string escapeInvalidUtf8(const std::string& s);

}  // namespace kiln
