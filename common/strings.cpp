#include "common/strings.h"

#include <cstdio>

#include <algorithm>

namespace kiln {

size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

namespace {
bool prefixRelated(const std::string& a, const std::string& b) {
  return std::min(a.size(), b.size()) >= 4 &&
         (b.compare(0, a.size(), a) == 0 || a.compare(0, b.size(), b) == 0);
}
}  // namespace

std::vector<std::string> closestNames(const std::vector<std::string>& candidates,
                                      const std::string& query, size_t n, bool typosOnly) {
  std::vector<std::pair<size_t, size_t>> scored;  // (distance, index)
  for (size_t i = 0; i < candidates.size(); ++i) {
    const std::string& c = candidates[i];
    const size_t d = editDistance(query, c);
    const size_t longer = std::max(query.size(), c.size());
    const bool typo = d <= std::max<size_t>(2, longer / 3) && d < longer;
    if (!typosOnly || typo || prefixRelated(query, c)) scored.emplace_back(d, i);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::string> out;
  for (const auto& [d, i] : scored) {
    if (out.size() == n) break;
    const std::string& c = candidates[i];
    if (typosOnly && d > scored.front().first + 1 && !prefixRelated(query, c)) continue;
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  }
  return out;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

std::string sanitizeFileName(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) c = '_';
  if (out.empty() || out == "." || out == "..") out = "_" + out;
  return out;
}

std::string shapeStr(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

std::string formatBytes(int64_t bytes) {
  char buf[64];
  if (bytes < 0) return "n/a";
  if (bytes >= 1000000000)
    std::snprintf(buf, sizeof buf, "%.2f GB", double(bytes) / 1e9);
  else if (bytes >= 1000000)
    std::snprintf(buf, sizeof buf, "%.2f MB", double(bytes) / 1e6);
  else if (bytes >= 1000)
    std::snprintf(buf, sizeof buf, "%.1f KB", double(bytes) / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
  return buf;
}

}  // namespace kiln
