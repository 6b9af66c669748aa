// Parsing precision_mode values: the accepted names come from the script language's one list
// (alls::precisionModes()); the bits are read from the name.
#include "compiler/quant/precision.h"

#include <algorithm>
#include <cstdlib>

#include "alls/commands.h"

namespace kiln::quant {

namespace {

// Reads "<letter><digits>" at `pos` and moves past it (and a following '_'); false when absent.
bool readBits(const std::string& s, size_t& pos, char letter, int& bits) {
  if (pos >= s.size() || s[pos] != letter) return false;
  char* end = nullptr;
  bits = int(std::strtol(s.c_str() + pos + 1, &end, 10));
  pos = size_t(end - s.c_str());
  if (pos < s.size() && s[pos] == '_') ++pos;
  return true;
}

}  // namespace

bool parsePrecisionMode(const std::string& s, PrecisionMode& out) {
  const auto& modes = alls::precisionModes();
  if (std::find(modes.begin(), modes.end(), s) == modes.end()) return false;
  PrecisionMode m;
  size_t pos = 0;
  readBits(s, pos, 'a', m.in);
  readBits(s, pos, 'w', m.w);
  m.out = m.in;
  readBits(s, pos, 'a', m.out);
  m.name = s;
  out = m;
  return true;
}

}  // namespace kiln::quant
