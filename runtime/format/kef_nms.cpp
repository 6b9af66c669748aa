// The .kef section `nms`: the detector post-processing config (runtime/post/nms.h), stored
// when the script had nms_postprocess (docs/file-format.md has the field table).
#include <cmath>

#include "runtime/format/byte_io.h"
#include "runtime/format/kef.h"

namespace kiln::rt {

namespace {

void floats(ByteWriter& w, const std::vector<float>& v) {
  w.u32(uint32_t(v.size()));
  for (float x : v) w.put<float>(x);
}

std::vector<float> floats(ByteReader& r, const char* field) {
  std::vector<float> v(r.count(field, 4));
  for (float& x : v) x = r.get<float>(field);
  return v;
}

}  // namespace

std::vector<uint8_t> writeNmsSection(const NmsConfig& c) {
  ByteWriter w;
  w.u32(uint32_t(c.arch));
  w.put<float>(c.scoreThreshold);
  w.put<float>(c.iouThreshold);
  w.u32(c.maxProposalsPerClass);
  w.u32(c.classes);
  w.u32(c.imageH);
  w.u32(c.imageW);
  w.u32(c.regressionLength);
  w.put<float>(c.centersScale);
  w.put<float>(c.dimsScale);
  w.u32(c.expBoxSize ? 1 : 0);
  for (uint32_t i : c.regIndex) w.u32(i);
  w.u32(c.backgroundRemoval ? 1 : 0);
  w.u32(c.backgroundIndex);
  w.u32(uint32_t(c.decoders.size()));
  for (const NmsDecoder& d : c.decoders) {
    w.str(d.name);
    w.u32(d.regOutput);
    w.u32(d.clsOutput);
    w.u32(d.stride);
    floats(w, d.anchorW);
    floats(w, d.anchorH);
  }
  return std::move(w.bytes);
}

NmsConfig readNmsSection(const uint8_t* data, size_t size) {
  ByteReader r(data, size, "nms");
  NmsConfig c;
  c.arch = NmsArch(r.u32("meta-architecture"));
  c.scoreThreshold = r.get<float>("score threshold");
  c.iouThreshold = r.get<float>("IoU threshold");
  c.maxProposalsPerClass = r.u32("max proposals per class");
  c.classes = r.u32("classes");
  c.imageH = r.u32("image height");
  c.imageW = r.u32("image width");
  c.regressionLength = r.u32("regression length");
  c.centersScale = r.get<float>("centers scale factor");
  c.dimsScale = r.get<float>("dimensions scale factor");
  const uint32_t exp = r.u32("exponential box size");
  if (exp > 1) r.fail("exponential box size must be 0 or 1");
  c.expBoxSize = exp == 1;
  for (uint32_t& i : c.regIndex) i = r.u32("regression index");
  const uint32_t bg = r.u32("background removal");
  if (bg > 1) r.fail("background removal must be 0 or 1");
  c.backgroundRemoval = bg == 1;
  c.backgroundIndex = r.u32("background index");
  c.decoders.resize(r.count("decoder count", 28));
  for (NmsDecoder& d : c.decoders) {
    d.name = r.str("decoder name");
    d.regOutput = r.u32("decoder regression output");
    d.clsOutput = r.u32("decoder class output");
    d.stride = r.u32("decoder stride");
    d.anchorW = floats(r, "decoder anchor widths");
    d.anchorH = floats(r, "decoder anchor heights");
  }
  r.expectEnd();
  return c;
}

}  // namespace kiln::rt
