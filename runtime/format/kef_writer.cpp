// Writes a Program as a .kef file (layout: kef.h, docs/file-format.md).
#include <cstring>

#include "runtime/format/byte_io.h"
#include "runtime/format/crc32.h"
#include "runtime/format/kef.h"

namespace kiln::rt {

namespace {

void putStreams(ByteWriter& w, const std::vector<StreamDesc>& streams) {
  w.u32(uint32_t(streams.size()));
  for (const StreamDesc& s : streams) {
    w.str(s.name);
    w.u32(s.tensor);
    w.i64s(s.shape);
    w.str(s.layout);
    w.u32(uint32_t(s.bits));
    w.put<double>(s.scale);
    w.i64(s.zeroPoint);
    w.put<float>(s.limMin);
    w.put<float>(s.limMax);
  }
}

}  // namespace

std::vector<uint8_t> writeKef(const Program& prog, const std::string& planText,
                              const NmsConfig* nms) {
  std::vector<std::pair<std::string, std::vector<uint8_t>>> sections;
  {
    ByteWriter w;
    w.str(prog.meta.netName);
    w.str(prog.meta.hwArch);
    w.str(prog.meta.toolVersion);
    w.str(prog.meta.graphHash);
    sections.emplace_back("meta", std::move(w.bytes));
  }
  {
    ByteWriter w;
    putStreams(w, prog.inputs);
    putStreams(w, prog.outputs);
    sections.emplace_back("streams", std::move(w.bytes));
  }
  {
    ByteWriter w;
    w.u32(uint32_t(prog.tensors.size()));
    for (const TensorDesc& t : prog.tensors) {
      w.i64s(t.shape);
      w.u32(uint32_t(t.bits));
    }
    sections.emplace_back("tensors", std::move(w.bytes));
  }
  {
    ByteWriter w;
    w.i64(prog.arenaElems);
    w.u32(uint32_t(prog.tensors.size()));
    for (const TensorDesc& t : prog.tensors) w.i64(t.offset);
    sections.emplace_back("memplan", std::move(w.bytes));
  }
  {
    ByteWriter w;
    w.u32(uint32_t(prog.ops.size()));
    for (const OpDesc& op : prog.ops) {
      w.u32(op.code);
      w.str(op.name);
      w.u32s(op.inputs);
      w.u32(op.output);
      w.i64s(op.ints);
      w.u32s(op.consts);
    }
    sections.emplace_back("layers", std::move(w.bytes));
  }
  {
    ByteWriter index, data;
    index.u32(uint32_t(prog.consts.size()));
    for (const ConstView& c : prog.consts) {
      data.align(kKefAlignment);
      index.u32(uint32_t(c.type));
      index.i64(c.count);
      index.i64(int64_t(data.bytes.size()));
      const size_t n = size_t(c.count) * constTypeSize(c.type);
      const auto* p = static_cast<const uint8_t*>(c.data);
      data.bytes.insert(data.bytes.end(), p, p + n);
    }
    sections.emplace_back("consts", std::move(index.bytes));
    sections.emplace_back("constdata", std::move(data.bytes));
  }
  {
    ByteWriter w;
    w.u32(uint32_t(prog.contexts.size()));
    for (const ContextDesc& c : prog.contexts) {
      w.u32(c.firstOp);
      w.u32(c.opCount);
      w.i64(c.weightBytes);
      w.i64(c.macs);
    }
    sections.emplace_back("contexts", std::move(w.bytes));
  }
  if (!planText.empty())
    sections.emplace_back("plan", std::vector<uint8_t>(planText.begin(), planText.end()));
  if (nms) sections.emplace_back("nms", writeNmsSection(*nms));

  // Layout: header, section table, then each section aligned.
  ByteWriter file;
  file.bytes.resize(kKefHeaderSize + kKefSectionEntrySize * sections.size(), 0);
  ByteWriter table;
  for (auto& [name, bytes] : sections) {
    file.align(kKefAlignment);
    char padded[16] = {};
    std::memcpy(padded, name.data(), std::min<size_t>(name.size(), 15));
    for (char ch : padded) table.put<char>(ch);
    table.put<uint64_t>(file.bytes.size());
    table.put<uint64_t>(bytes.size());
    table.u32(crc32(bytes.data(), bytes.size()));
    table.u32(kKefAlignment);
    table.put<uint64_t>(0);
    file.bytes.insert(file.bytes.end(), bytes.begin(), bytes.end());
  }
  std::memcpy(file.bytes.data() + kKefHeaderSize, table.bytes.data(), table.bytes.size());
  ByteWriter header;
  for (char ch : kKefMagic) header.put<char>(ch);
  header.u32(kKefVersion);
  header.u32(kKefHeaderSize);
  header.put<uint64_t>(file.bytes.size());
  header.u32(uint32_t(sections.size()));
  header.u32(0);  // flags
  header.put<uint64_t>(kKefHeaderSize);
  header.u32(crc32(table.bytes.data(), table.bytes.size()));
  header.u32(crc32(header.bytes.data(), header.bytes.size()));
  header.bytes.resize(kKefHeaderSize, 0);
  std::memcpy(file.bytes.data(), header.bytes.data(), kKefHeaderSize);
  return std::move(file.bytes);
}

}  // namespace kiln::rt
