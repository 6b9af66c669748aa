// Parses and checks a .kef file (layout: kef.h, docs/file-format.md). Every size, count, index
// and offset is checked before use; the program's tables are then validated operation by
// operation by PreparedProgram (engine/executor.h) when a Model is loaded.
#include <algorithm>
#include <cstring>
#include <map>

#include "runtime/format/byte_io.h"
#include "runtime/format/crc32.h"
#include "runtime/format/kef.h"

namespace kiln::rt {

namespace {

// The smallest encoding of a stream: name, tensor, shape count, layout, bits (4 bytes each),
// qp_scale, qp_zp (8 each), limvals (4 each).
constexpr size_t kMinStreamBytes = 44;

std::vector<StreamDesc> getStreams(ByteReader& r, const char* kind) {
  std::vector<StreamDesc> v(r.count(kind, kMinStreamBytes));
  for (StreamDesc& s : v) {
    s.name = r.str("stream name");
    s.tensor = r.u32("stream tensor");
    s.shape = r.i64s("stream shape");
    s.layout = r.str("stream layout");
    s.bits = int32_t(r.u32("stream bits"));
    s.scale = r.get<double>("qp_scale");
    s.zeroPoint = r.i64("qp_zp");
    s.limMin = r.get<float>("limvals_min");
    s.limMax = r.get<float>("limvals_max");
  }
  return v;
}

// Bytes no checksum covers (the header's reserved tail, the padding before each aligned
// section) must be zero: with checksums on, any changed byte of the file is then detected.
void checkPadding(const uint8_t* data, size_t size, uint64_t tableOffset, uint64_t tableEnd,
                  const std::vector<KefFile::Section>& sections) {
  auto corrupted = [](size_t pos, const std::string& where) {
    throw Error("padding: byte " + std::to_string(pos) + " " + where +
                " is not zero (checksum failure: the file is corrupted)");
  };
  for (size_t i = kKefHeaderCrcEnd + 4; i < kKefHeaderSize; ++i)
    if (data[i] != 0) corrupted(i, "(reserved, in the header)");
  std::vector<std::pair<uint64_t, uint64_t>> used = {{0, kKefHeaderSize}, {tableOffset, tableEnd}};
  for (const KefFile::Section& s : sections) used.emplace_back(s.offset, s.offset + s.size);
  std::sort(used.begin(), used.end());
  uint64_t pos = 0;
  for (const auto& [begin, end] : used) {
    for (; pos < begin; ++pos)
      if (data[pos] != 0) corrupted(size_t(pos), "(between sections)");
    pos = std::max(pos, end);
  }
  for (; pos < size; ++pos)
    if (data[pos] != 0) corrupted(size_t(pos), "(after the last section)");
}

}  // namespace

KefFile parseKef(const uint8_t* data, size_t size, const KefOptions& opts) {
  KefFile f;
  ByteReader h(data, size, "header");
  char magic[8];
  for (char& c : magic) c = h.get<char>("magic");
  if (std::memcmp(magic, kKefMagic, 8) != 0)
    throw Error("not a Kiln executable: the file does not start with the magic \"KILNKEF\"");
  f.version = h.u32("format version");
  if (f.version > kKefVersion)
    throw Error("header: format version " + std::to_string(f.version) +
                " is newer than format version " + std::to_string(kKefVersion) +
                ", the newest this runtime reads: update kilnrt, or compile with a matching kiln");
  if (f.version < 1) throw Error("header: format version 0 is not a valid version");
  const uint32_t headerSize = h.u32("header size");
  const uint64_t fileSize = h.get<uint64_t>("file size");
  const uint32_t sectionCount = h.u32("section count");
  h.u32("flags");
  const uint64_t tableOffset = h.get<uint64_t>("section table offset");
  const uint32_t tableCrc = h.u32("section table checksum");
  const size_t headerCrcEnd = h.pos();  // == kKefHeaderCrcEnd
  const uint32_t headerCrc = h.u32("header checksum");
  if (headerSize != kKefHeaderSize)
    throw Error("header: header size " + std::to_string(headerSize) + ", expected " +
                std::to_string(kKefHeaderSize));
  if (size < kKefHeaderSize) throw Error("header: truncated (" + std::to_string(size) + " bytes)");
  if (opts.verifyChecksums && crc32(data, headerCrcEnd) != headerCrc)
    throw Error("header: checksum mismatch (the file is corrupted)");
  if (fileSize != size)
    throw Error("header: the file should be " + std::to_string(fileSize) + " bytes, it is " +
                std::to_string(size) + " (truncated or extended)");
  if (sectionCount > 1024) throw Error("header: " + std::to_string(sectionCount) + " sections");
  const uint64_t tableBytes = uint64_t(sectionCount) * kKefSectionEntrySize;
  if (tableOffset < kKefHeaderSize || tableOffset > size || size - tableOffset < tableBytes)
    throw Error("header: the section table lies outside the file");
  if (opts.verifyChecksums && crc32(data + tableOffset, tableBytes) != tableCrc)
    throw Error("section table: checksum mismatch (the file is corrupted)");
  std::map<std::string, std::pair<const uint8_t*, size_t>> byName;
  ByteReader t(data + tableOffset, tableBytes, "section table");
  for (uint32_t i = 0; i < sectionCount; ++i) {
    char name[16];
    for (char& c : name) c = t.get<char>("section name");
    if (name[15] != '\0')
      throw Error("section table: entry " + std::to_string(i) + " name is not terminated");
    KefFile::Section s;
    s.name = name;
    s.offset = t.get<uint64_t>("section offset");
    s.size = t.get<uint64_t>("section size");
    s.crc = t.u32("section checksum");
    const uint32_t align = t.u32("section alignment");
    t.get<uint64_t>("reserved");
    if (s.offset > size || size - s.offset < s.size)
      throw Error("section '" + s.name + "': bytes " + std::to_string(s.offset) + "+" +
                  std::to_string(s.size) + " lie outside the file of " + std::to_string(size));
    if (align == 0 || (align & (align - 1)) || s.offset % align != 0)
      throw Error("section '" + s.name + "': offset " + std::to_string(s.offset) +
                  " is not aligned to " + std::to_string(align));
    if (opts.verifyChecksums && crc32(data + s.offset, s.size) != s.crc)
      throw Error("section '" + s.name + "': checksum mismatch (the file is corrupted)");
    if (byName.count(s.name)) throw Error("section '" + s.name + "' appears twice");
    byName[s.name] = {data + s.offset, size_t(s.size)};
    f.sections.push_back(s);
  }
  if (opts.verifyChecksums)
    checkPadding(data, size, tableOffset, tableOffset + tableBytes, f.sections);
  auto section = [&](const char* name) {
    const auto it = byName.find(name);
    if (it == byName.end()) throw Error(std::string("section '") + name + "' is missing");
    return ByteReader(it->second.first, it->second.second, name);
  };
  Program& p = f.program;
  {
    ByteReader r = section("meta");
    p.meta.netName = r.str("net name");
    p.meta.hwArch = r.str("hw arch");
    p.meta.toolVersion = r.str("tool version");
    p.meta.graphHash = r.str("graph hash");
    r.expectEnd();
  }
  {
    ByteReader r = section("tensors");
    p.tensors.resize(r.count("tensor count", 8));
    for (TensorDesc& td : p.tensors) {
      td.shape = r.i64s("tensor shape");
      td.bits = int32_t(r.u32("tensor bits"));
    }
    r.expectEnd();
  }
  {
    ByteReader r = section("memplan");
    p.arenaElems = r.i64("arena elements");
    if (r.count("tensor count", 8) != p.tensors.size())
      r.fail("tensor count differs from section 'tensors'");
    for (TensorDesc& td : p.tensors) td.offset = r.i64("tensor offset");
    r.expectEnd();
  }
  {
    ByteReader r = section("streams");
    p.inputs = getStreams(r, "input count");
    p.outputs = getStreams(r, "output count");
    r.expectEnd();
    if (p.inputs.empty() || p.outputs.empty())
      r.fail("the network needs at least one input and one output stream");
  }
  {
    ByteReader r = section("layers");
    p.ops.resize(r.count("operation count", 24));
    for (OpDesc& op : p.ops) {
      op.code = r.u32("opcode");
      op.name = r.str("operation name");
      op.inputs = r.u32s("operation inputs");
      op.output = r.u32("operation output");
      op.ints = r.i64s("operation ints");
      op.consts = r.u32s("operation constants");
      if (op.code < 1 || op.code > kMaxOpCode)
        r.fail("operation '" + op.name + "': unknown opcode " + std::to_string(op.code) +
               " (this runtime knows 1 to " + std::to_string(kMaxOpCode) + ")");
    }
    r.expectEnd();
  }
  {
    ByteReader r = section("consts");
    const auto dataIt = byName.find("constdata");
    if (dataIt == byName.end()) throw Error("section 'constdata' is missing");
    const uint8_t* base = dataIt->second.first;
    const size_t dataSize = dataIt->second.second;
    p.consts.resize(r.count("constant count", 20));
    for (size_t i = 0; i < p.consts.size(); ++i) {
      ConstView& c = p.consts[i];
      const uint32_t type = r.u32("constant type");
      if (type < 1 || type > 4)
        r.fail("constant " + std::to_string(i) + ": unknown type " + std::to_string(type));
      c.type = ConstType(type);
      c.count = r.i64("constant count");
      const int64_t off = r.i64("constant offset");
      const size_t es = constTypeSize(c.type);
      if (c.count < 0 || off < 0 || uint64_t(off) > dataSize ||
          uint64_t(c.count) > (dataSize - uint64_t(off)) / es)
        r.fail("constant " + std::to_string(i) + ": " + std::to_string(c.count) + " x " +
               constTypeName(c.type) + " at offset " + std::to_string(off) +
               " lies outside section 'constdata' (" + std::to_string(dataSize) + " bytes)");
      c.data = base + off;
      if (reinterpret_cast<uintptr_t>(c.data) % es != 0)
        r.fail("constant " + std::to_string(i) + ": offset " + std::to_string(off) +
               " is not aligned to its element size (" + constTypeName(c.type) + ")");
    }
    r.expectEnd();
  }
  {
    ByteReader r = section("contexts");
    p.contexts.resize(r.count("context count", 24));
    for (ContextDesc& c : p.contexts) {
      c.firstOp = r.u32("context first operation");
      c.opCount = r.u32("context operation count");
      c.weightBytes = r.i64("context weight bytes");
      c.macs = r.i64("context MACs");
    }
    r.expectEnd();
  }
  const auto plan = byName.find("plan");
  if (plan != byName.end())
    f.planText.assign(reinterpret_cast<const char*>(plan->second.first), plan->second.second);
  const auto nms = byName.find("nms");
  if (nms != byName.end()) {
    f.nms = readNmsSection(nms->second.first, nms->second.second);
    try {
      checkNmsConfig(f.nms, p.outputs);
    } catch (const Error& e) {
      throw Error(std::string("section 'nms': ") + e.what());
    }
    f.hasNms = true;
  }
  return f;
}

}  // namespace kiln::rt
