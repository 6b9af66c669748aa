#include "compiler/archive/tar.h"

#include <cstring>

#include "compiler/ir/types.h"

namespace kiln::tar {

namespace {

void octal(char* field, size_t width, uint64_t value) {
  // width includes the terminating NUL.
  std::string s(width - 1, '0');
  for (size_t i = width - 1; i-- > 0;) {
    s[i] = char('0' + (value & 7));
    value >>= 3;
  }
  std::memcpy(field, s.data(), width - 1);
  field[width - 1] = '\0';
}

uint64_t parseOctal(const char* field, size_t width, bool& ok) {
  uint64_t v = 0;
  size_t i = 0;
  while (i < width && field[i] == ' ') ++i;
  for (; i < width && field[i] >= '0' && field[i] <= '7'; ++i) {
    if (v >> 60) {
      ok = false;
      return 0;
    }
    v = v * 8 + uint64_t(field[i] - '0');
  }
  for (; i < width; ++i)
    if (field[i] != '\0' && field[i] != ' ') ok = false;
  return v;
}

}  // namespace

std::vector<uint8_t> write(const std::vector<Entry>& entries) {
  std::vector<uint8_t> out;
  for (const auto& [name, data] : entries) {
    if (name.size() > 99) throw Error("archive entry name too long: " + name);
    char h[512] = {0};
    std::memcpy(h, name.data(), name.size());
    octal(h + 100, 8, 0644);
    octal(h + 108, 8, 0);
    octal(h + 116, 8, 0);
    octal(h + 124, 12, data.size());
    octal(h + 136, 12, 0);
    std::memset(h + 148, ' ', 8);
    h[156] = '0';
    std::memcpy(h + 257, "ustar", 6);
    std::memcpy(h + 263, "00", 2);
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    octal(h + 148, 7, sum);
    h[155] = ' ';
    out.insert(out.end(), h, h + 512);
    out.insert(out.end(), data.begin(), data.end());
    out.resize(out.size() + (512 - data.size() % 512) % 512, 0);
  }
  out.resize(out.size() + 1024, 0);
  return out;
}

std::vector<Entry> read(const std::vector<uint8_t>& bytes, const std::string& what) {
  std::vector<Entry> entries;
  size_t pos = 0;
  auto fail = [&](const std::string& m) {
    return Error(what + ": not a valid Kiln archive (tar): " + m + " at byte " +
                 std::to_string(pos));
  };
  while (true) {
    if (pos + 512 > bytes.size()) throw fail("truncated (no end-of-archive marker)");
    const char* h = reinterpret_cast<const char*>(bytes.data() + pos);
    bool zero = true;
    for (int i = 0; i < 512 && zero; ++i) zero = h[i] == 0;
    if (zero) break;
    unsigned sum = 0;
    for (int i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : (unsigned char)h[i];
    bool ok = true;
    const uint64_t stored = parseOctal(h + 148, 8, ok);
    if (!ok || stored != sum) throw fail("header checksum mismatch");
    const uint64_t size = parseOctal(h + 124, 12, ok);
    if (!ok) throw fail("bad size field");
    if (h[156] != '0' && h[156] != '\0') throw fail("entry is not a regular file");
    std::string name(h, strnlen(h, 100));
    pos += 512;
    if (size > bytes.size() - pos) throw fail("entry '" + name + "' runs past the end of the file");
    entries.emplace_back(name,
                         std::vector<uint8_t>(bytes.begin() + pos, bytes.begin() + pos + size));
    pos += size + (512 - size % 512) % 512;
  }
  return entries;
}

}  // namespace kiln::tar
