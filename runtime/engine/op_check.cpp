// Validation helpers shared by the operations, and the opcode dispatch (from ops.def).
#include <algorithm>
#include <cstdio>
#include <limits>

#include "runtime/engine/op_kernel.h"

namespace kiln::rt {

size_t constTypeSize(ConstType t) {
  switch (t) {
    case ConstType::I8:
      return 1;
    case ConstType::I16:
      return 2;
    case ConstType::I32:
      return 4;
    case ConstType::I64:
      return 8;
  }
  return 0;
}

const char* constTypeName(ConstType t) {
  switch (t) {
    case ConstType::I8:
      return "int8";
    case ConstType::I16:
      return "int16";
    case ConstType::I32:
      return "int32";
    case ConstType::I64:
      return "int64";
  }
  return "unknown";
}

std::string formatCount(int64_t n) {
  static const char* const kPrefix[] = {"", " k", " M", " G", " T", " P", " E"};
  double v = double(n);
  size_t p = 0;
  while (v >= 999.5 && p + 1 < sizeof(kPrefix) / sizeof(kPrefix[0])) v /= 1000, ++p;
  char buf[32];
  if (p == 0)
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
  else
    std::snprintf(buf, sizeof buf,
                  v < 9.995   ? "%.2f%s"
                  : v < 99.95 ? "%.1f%s"
                              : "%.0f%s",
                  v, kPrefix[p]);
  return buf;
}

std::string exactCount(int64_t n) {
  const std::string exact = std::to_string(n), short_ = formatCount(n);
  return exact == short_ ? exact : exact + " (" + short_ + ")";
}

namespace {

int64_t valueAt(const ConstView& c, int64_t i) {
  switch (c.type) {
    case ConstType::I8:
      return c.as<int8_t>()[i];
    case ConstType::I16:
      return c.as<int16_t>()[i];
    case ConstType::I32:
      return c.as<int32_t>()[i];
    case ConstType::I64:
      return c.as<int64_t>()[i];
  }
  return 0;
}

std::string shapeStr(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

}  // namespace

OpCheck::OpCheck(const Program& p, size_t i, const Limits& l)
    : prog(p), op(p.ops[i]), index(i), limits(l), info(opInfo(p.ops[i].code)) {}

void OpCheck::fail(const std::string& what) const {
  throw Error("operation " + std::to_string(index) + " '" + op.name + "' (" + opName(op.code) +
              "): " + what);
}

void OpCheck::inputs(size_t n) const {
  if (op.inputs.size() != n)
    fail("expects " + std::to_string(n) + " input(s), has " + std::to_string(op.inputs.size()));
}

OpLayout OpCheck::layout() const {
  size_t length = 0;
  if (info->arrayLength == ArrayLength::inputs)
    length = op.inputs.size();
  else if (info->arrayLength == ArrayLength::rank)
    length = op.inputs.empty() ? 0 : in(0).shape.size();
  return {*info, length};
}

void OpCheck::fieldCounts() const {
  const OpLayout l = layout();
  if (op.ints.size() != l.intCount())
    fail("expects " + std::to_string(l.intCount()) + " integer parameters, has " +
         std::to_string(op.ints.size()));
  if (op.consts.size() != l.constCount())
    fail("expects " + std::to_string(l.constCount()) + " constant references, has " +
         std::to_string(op.consts.size()));
}

int64_t OpCheck::intAt(size_t k, int64_t lo, int64_t hi, const std::string& field) const {
  if (k >= op.ints.size()) fail("missing integer parameter " + field);
  const int64_t v = op.ints[k];
  if (v < lo || v > hi)
    fail(field + " = " + std::to_string(v) + ", expected within [" + std::to_string(lo) + ", " +
         std::to_string(hi) + "]");
  return v;
}

int64_t OpCheck::field(size_t f, int64_t lo, int64_t hi) const {
  return intAt(f, lo, hi, info->ints.at(f));
}

int64_t OpCheck::element(size_t a, size_t i, int64_t lo, int64_t hi) const {
  return intAt(layout().arrayInt(a, i), lo, hi,
               std::string(info->arrays.at(a)) + "[" + std::to_string(i) + "]");
}

int32_t OpCheck::zeroPoint(size_t f, const TensorDesc& t) const {
  return int32_t(field(f, 0, (int64_t(1) << t.bits) - 1));
}

int32_t OpCheck::zeroPointElement(size_t a, size_t i, const TensorDesc& t) const {
  return int32_t(element(a, i, 0, (int64_t(1) << t.bits) - 1));
}

const char* OpCheck::constName(size_t f) const {
  return info->consts.at(f);
}

const ConstView* OpCheck::optConst(size_t k, ConstType t, int64_t count,
                                   const std::string& field) const {
  if (k >= op.consts.size()) fail("missing constant " + field);
  const uint32_t id = op.consts[k];
  if (id == kNoConst) return nullptr;
  if (id >= prog.consts.size())
    fail(field + ": constant index " + std::to_string(id) + " out of range (" +
         std::to_string(prog.consts.size()) + " constants)");
  const ConstView& c = prog.consts[id];
  if (c.type != t)
    fail(field + ": constant " + std::to_string(id) + " is " + constTypeName(c.type) +
         ", expected " + constTypeName(t));
  if (count >= 0 && c.count != count)
    fail(field + ": constant " + std::to_string(id) + " has " + std::to_string(c.count) +
         " elements, expected " + std::to_string(count));
  return &c;
}

const ConstView* OpCheck::optConstant(size_t f, ConstType t, int64_t count) const {
  return optConst(f, t, count, constName(f));
}

const ConstView& OpCheck::constant(size_t f, ConstType t, int64_t count) const {
  const ConstView* c = optConstant(f, t, count);
  if (!c) fail(std::string(constName(f)) + " is required");
  return *c;
}

void OpCheck::valuesWithin(const ConstView& c, int64_t lo, int64_t hi, const char* field) const {
  for (int64_t i = 0; i < c.count; ++i) {
    const int64_t v = valueAt(c, i);
    if (v < lo || v > hi)
      fail(std::string(field) + "[" + std::to_string(i) + "] = " + std::to_string(v) +
           ", expected within [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
}

const ConstView& OpCheck::weights(size_t f, int64_t count) const {
  const char* field = constName(f);
  if (f >= op.consts.size() || op.consts[f] >= prog.consts.size())
    fail(std::string(field) + ": missing or out-of-range constant");
  const ConstView& c = prog.consts[op.consts[f]];
  if (c.type == ConstType::I64) fail(std::string(field) + ": weights cannot be int64");
  if (c.count != count)
    fail(std::string(field) + ": " + std::to_string(c.count) + " elements, expected " +
         std::to_string(count));
  if (c.type == ConstType::I32) valuesWithin(c, -(1 << 24), 1 << 24, field);
  return c;
}

void OpCheck::rank(const TensorDesc& t, size_t r, const char* which) const {
  if (t.shape.size() != r)
    fail(std::string(which) + " has shape " + shapeStr(t.shape) + ", expected rank " +
         std::to_string(r));
}

void OpCheck::sameShape(const TensorDesc& a, const TensorDesc& b, const char* what) const {
  if (a.shape != b.shape)
    fail(std::string(what) + ": shapes " + shapeStr(a.shape) + " and " + shapeStr(b.shape) +
         " differ");
}

int64_t OpCheck::product(int64_t a, int64_t b, int64_t limit, const char* what) const {
  if (a < 0 || b < 0 || (a && b > limit / a))
    fail(std::string(what) + ": " + std::to_string(a) + " x " + std::to_string(b) +
         " exceeds the limit of " + std::to_string(limit));
  return a * b;
}

void OpCheck::accumulatorFits(int64_t bound, const char* what) const {
  if (bound < 0 || bound > kMaxAcc)
    fail(std::string(what) + ": the accumulator can reach " + std::to_string(bound) +
         ", more than 2^62");
}

int64_t OpCheck::work(std::initializer_list<int64_t> factors, const char* formula) const {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t w = 1;
  std::string values;
  for (int64_t f : factors) {
    values += (values.empty() ? "" : " x ") + std::to_string(f);
    if (f < 0) fail(std::string("work: negative factor in ") + formula);
    w = (f != 0 && w > kMax / f) ? kMax : w * f;
  }
  if (w > limits.maxWork)
    fail("estimated work of " + exactCount(w) + " per frame (" + formula + " = " + values +
         ") exceeds the runtime's limit of " + exactCount(limits.maxWork) +
         " (LoadOptions::maxWork)");
  return w;
}

void OpCheck::stage(int64_t channels, StageHolder& h, const std::vector<int64_t>& accBound) const {
  const int64_t outMax = (int64_t(1) << out().bits) - 1;
  const OpLayout l = layout();
  const size_t intBase = l.stageInt(), constBase = l.stageConst();
  if (!info->stage || op.ints.size() < intBase + kStageInts ||
      op.consts.size() < constBase + kStageConsts)
    fail("output stage parameters missing");
  OutputStage& s = h.stage;
  // Every value a stage writes (clamped result, or out_zp itself where an operation writes it
  // directly) lies within the output range.
  s.outZp = int32_t(intAt(intBase, 0, outMax, "stage out_zp"));
  s.qmin = int32_t(intAt(intBase + 1, 0, outMax, "stage qmin"));
  s.qmax = int32_t(intAt(intBase + 2, s.qmin, outMax, "stage qmax"));
  s.lutOffset = int32_t(intAt(intBase + 3, 0, int64_t(1) << 30, "stage lut_offset"));
  s.lutFracBits = int32_t(intAt(intBase + 4, 0, 24, "stage lut_frac_bits"));
  s.lutValueBits = int32_t(intAt(intBase + 5, 0, 24, "stage lut_value_bits"));
  // The table's result is requantized by 2^-(30 + lut_frac_bits + lut_value_bits): a shift that
  // must stay within requantize()'s [0, 62].
  if (s.lutFracBits + s.lutValueBits > 32)
    fail("stage lut_frac_bits + lut_value_bits = " +
         std::to_string(s.lutFracBits + s.lutValueBits) + ", expected at most 32");
  int64_t maxBound = 0;
  for (int64_t b : accBound) maxBound = std::max(maxBound, b);
  auto mults = [&](const ConstView& c, const char* field) {
    if (c.count % 2 != 0 || (c.count / 2 != 1 && c.count / 2 != channels))
      fail(std::string(field) + ": " + std::to_string(c.count) + " values, expected 2 or 2 x " +
           std::to_string(channels) + " (multiplier, shift)");
    std::vector<Multiplier> m(size_t(c.count / 2));
    for (size_t i = 0; i < m.size(); ++i) {
      m[i].m = c.as<int32_t>()[2 * i];
      m[i].shift = c.as<int32_t>()[2 * i + 1];
      if (m[i].m < 0 || m[i].shift < 0 || m[i].shift > 62)
        fail(std::string(field) + "[" + std::to_string(i) + "]: multiplier " +
             std::to_string(m[i].m) + " shift " + std::to_string(m[i].shift) +
             ", expected m >= 0 and shift in [0, 62]");
      const int64_t bound =
          accBound.size() == size_t(channels) && m.size() > 1 ? accBound[i] : maxBound;
      if ((static_cast<__int128>(bound) * m[i].m) >> m[i].shift >= (__int128(1) << 62))
        fail(std::string(field) + "[" + std::to_string(i) + "]: multiplier " +
             std::to_string(m[i].m) + " shift " + std::to_string(m[i].shift) +
             " rescales accumulators up to " + std::to_string(bound) + " beyond 2^62");
    }
    return m;
  };
  const ConstView* mult = optConst(constBase, ConstType::I32, -1, "stage multipliers");
  if (!mult) fail("stage multipliers is required");
  h.mult = mults(*mult, "stage multipliers");
  if (const ConstView* neg =
          optConst(constBase + 1, ConstType::I32, -1, "stage negative multipliers")) {
    h.multNeg = mults(*neg, "stage negative multipliers");
    if (h.multNeg.size() != h.mult.size())
      fail("stage negative multipliers: count differs from the multipliers");
  }
  const ConstView* lut = optConst(constBase + 2, ConstType::I32, -1, "stage table");
  if (lut) {
    if (lut->count < 1 || lut->count > (int64_t(1) << 20))
      fail("stage table: " + std::to_string(lut->count) + " entries, expected 1 to 2^20");
    valuesWithin(*lut, 0, int64_t(1) << 30, "stage table");
    s.lut = lut->as<int32_t>();
    s.lutSize = int32_t(lut->count);
    s.lutMax = 0;
    for (int64_t i = 0; i < s.lutSize; ++i) s.lutMax = std::max(s.lutMax, s.lut[i]);
    h.lutPairs = lutPairTable(s.lut, s.lutSize);  // a speed hint: empty beyond int16
    if (!h.lutPairs.empty()) s.lutPairs = h.lutPairs.data();
  }
  s.mult = h.mult.data();
  s.multNeg = h.multNeg.empty() ? nullptr : h.multNeg.data();
  s.perChannel = h.mult.size() > 1;
  h.channels = channels;
}

std::unique_ptr<OpKernel> makeKernel(const Program& prog, size_t index, const Limits& limits) {
  const OpDesc& op = prog.ops[index];
  OpCheck c(prog, index, limits);
  for (uint32_t t : op.inputs)
    if (t >= prog.tensors.size()) c.fail("input tensor " + std::to_string(t) + " out of range");
  if (op.output >= prog.tensors.size())
    c.fail("output tensor " + std::to_string(op.output) + " out of range");
  switch (OpCode(op.code)) {
#define KILN_OP(code, Name, text, factory, ...) \
  case OpCode::Name:                            \
    return factory(c);
#include "runtime/engine/ops.def"
  }
  c.fail("unknown opcode " + std::to_string(op.code) + " (this runtime knows 1 to " +
         std::to_string(kMaxOpCode) + ")");
}

}  // namespace kiln::rt
