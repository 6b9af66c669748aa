#include "alls/errors.h"

#include <fmt/format.h>

#include <algorithm>

namespace kiln::alls {
namespace {

// One displayed unit of a source line: a character (ASCII or a whole UTF-8 sequence), a tab, or
// an escaped byte. `bytes` is how many source bytes it stands for, `width` its display columns.
struct Piece {
  std::string text;
  size_t bytes = 1, width = 1;
  bool tab = false;
};

// Length of the valid UTF-8 sequence starting at s[i] (2-4), or 0.
size_t utf8Length(const std::string& s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  const size_t n = b >= 0xC2 && b <= 0xDF   ? 2
                   : b >= 0xE0 && b <= 0xEF ? 3
                   : b >= 0xF0 && b <= 0xF4 ? 4
                                            : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  return n;
}

std::vector<Piece> pieces(const std::string& s, bool keepNewlines) {
  std::vector<Piece> out;
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    Piece p;
    if (b == '\t' || (keepNewlines && b == '\n')) {
      p.text = std::string(1, char(b));
      p.tab = b == '\t';
    } else if (b >= 0x20 && b < 0x7F) {
      p.text = std::string(1, char(b));
    } else if (const size_t n = b >= 0x80 ? utf8Length(s, i) : 0) {
      p.text = s.substr(i, n);
      p.bytes = n;
    } else {
      p.text = fmt::format("\\x{:02x}", b);
      p.width = p.text.size();
    }
    i += p.bytes;
    out.push_back(std::move(p));
  }
  return out;
}

// The source line as printed under a message and its caret line: escaped, and cut to
// kMaxQuotedLine columns around the caret when longer.
std::pair<std::string, std::string> excerpt(const std::string& line, int col) {
  const std::vector<Piece> ps = pieces(line, false);
  // The piece holding byte col-1 (ps.size() when the column is past the end).
  size_t at = 0;
  for (size_t bytes = 0; at < ps.size() && bytes + ps[at].bytes <= size_t(std::max(col, 1) - 1);
       ++at)
    bytes += ps[at].bytes;
  size_t total = 0;
  for (const Piece& p : ps) total += p.width;
  size_t first = 0, last = ps.size();  // the pieces shown: [first, last)
  if (total > kMaxQuotedLine) {
    const size_t half = kMaxQuotedLine / 2;
    size_t w = 0;
    first = std::min(at, ps.size());
    while (first > 0 && w + ps[first - 1].width <= half) w += ps[--first].width;
    last = first;
    w = 0;
    while (last < ps.size() && w + ps[last].width <= kMaxQuotedLine) w += ps[last++].width;
    while (first > 0 && w + ps[first - 1].width <= kMaxQuotedLine) w += ps[--first].width;
  }
  std::string text = first > 0 ? "..." : "", caret = first > 0 ? "   " : "";
  for (size_t k = first; k < last; ++k) {
    text += ps[k].text;
    if (k < at) caret += ps[k].tab ? std::string("\t") : std::string(ps[k].width, ' ');
  }
  if (last < ps.size()) text += "...";
  return {text, caret + '^'};
}

}  // namespace

std::string printable(const std::string& text, bool keepNewlines) {
  std::string out;
  for (const Piece& p : pieces(text, keepNewlines)) out += p.text;
  return out;
}

std::string shorten(const std::string& text, size_t max) {
  if (text.size() <= max) return printable(text);
  size_t cut = max;
  // Do not split a UTF-8 sequence.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return printable(text.substr(0, cut)) + "...";
}

std::string caretLine(const std::string& lineText, int col) {
  return excerpt(lineText, col).second;
}

std::string formatMessage(const SourcePos& pos, const std::string& severity,
                          const std::string& what, const std::string& lineText) {
  // Line 0 means the whole file (e.g. it cannot be read).
  const std::string file = printable(pos.file), detail = printable(what, true);
  std::string out = pos.line > 0
                        ? fmt::format("{}:{}:{}: {}: {}", file, pos.line, pos.col, severity, detail)
                        : fmt::format("{}: {}: {}", file, severity, detail);
  if (!lineText.empty() && pos.line > 0) {
    const auto [text, caret] = excerpt(lineText, pos.col);
    out += fmt::format("\n{}\n{}", text, caret);
  }
  return out;
}

ScriptError::ScriptError(const SourcePos& pos, const std::string& what, const std::string& lineText)
    : std::runtime_error(formatMessage(pos, "error", what, lineText)), pos_(pos), detail_(what) {}

}  // namespace kiln::alls
