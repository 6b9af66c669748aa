// The .kef format: round trips of hand-built programs, determinism, and bad input (truncated,
// bit-flipped, mutated, wrong magic, future version, foreign sections, padding) that must give
// the documented error and never crash. Runtime-only: links kilnrt_lib and GoogleTest.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <set>

#include "runtime/api/runtime.h"
#include "runtime/engine/executor.h"
#include "tests/runtime/format/kef_programs.h"
#include "tests/runtime/format/kef_test_util.h"

namespace kiln::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct Sample {
  const char* name;
  std::function<std::unique_ptr<rt::OwnedProgram>()> make;
};
const Sample kSamples[] = {
    {"cnn", makeCnnProgram},
    {"misc", makeMiscProgram},
    {"tiny", makeTinyProgram},
    {"camera", makeCameraProgram}};

std::vector<uint8_t> sampleBytes(const Sample& s) {
  return rt::writeKef(s.make()->program, std::string("plan of ") + s.name);
}

// Deterministic input values within each stream's range, for stream k.
std::vector<int32_t> inputValues(const rt::StreamDesc& s, size_t k) {
  std::vector<int32_t> v(size_t(rt::streamElements(s)));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = int32_t((i * 37 + k * 11 + 5) % (size_t(1) << s.bits));
  return v;
}

void expectSamePrograms(const rt::Program& a, const rt::Program& b) {
  EXPECT_EQ(a.meta.netName, b.meta.netName);
  EXPECT_EQ(a.meta.graphHash, b.meta.graphHash);
  EXPECT_EQ(a.arenaElems, b.arenaElems);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    EXPECT_EQ(a.tensors[i].shape, b.tensors[i].shape) << i;
    EXPECT_EQ(a.tensors[i].bits, b.tensors[i].bits) << i;
    EXPECT_EQ(a.tensors[i].offset, b.tensors[i].offset) << i;
  }
  ASSERT_EQ(a.ops.size(), b.ops.size());
  for (size_t i = 0; i < a.ops.size(); ++i) {
    EXPECT_EQ(a.ops[i].code, b.ops[i].code);
    EXPECT_EQ(a.ops[i].name, b.ops[i].name);
    EXPECT_EQ(a.ops[i].inputs, b.ops[i].inputs);
    EXPECT_EQ(a.ops[i].output, b.ops[i].output);
    EXPECT_EQ(a.ops[i].ints, b.ops[i].ints);
    EXPECT_EQ(a.ops[i].consts, b.ops[i].consts);
  }
  ASSERT_EQ(a.consts.size(), b.consts.size());
  for (size_t i = 0; i < a.consts.size(); ++i) {
    ASSERT_EQ(a.consts[i].type, b.consts[i].type);
    ASSERT_EQ(a.consts[i].count, b.consts[i].count);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.consts[i].data) % rt::constTypeSize(b.consts[i].type),
              0u);
    EXPECT_EQ(std::memcmp(a.consts[i].data, b.consts[i].data,
                          size_t(a.consts[i].count) * rt::constTypeSize(a.consts[i].type)),
              0)
        << "constant " << i;
  }
  for (const auto* streams : {&a.inputs, &a.outputs}) {
    const auto& other = streams == &a.inputs ? b.inputs : b.outputs;
    ASSERT_EQ(streams->size(), other.size());
    for (size_t i = 0; i < other.size(); ++i) {
      const rt::StreamDesc &x = (*streams)[i], &y = other[i];
      EXPECT_EQ(x.name, y.name);
      EXPECT_EQ(x.tensor, y.tensor);
      EXPECT_EQ(x.shape, y.shape);
      EXPECT_EQ(x.layout, y.layout);
      EXPECT_EQ(x.bits, y.bits);
      EXPECT_EQ(x.scale, y.scale);
      EXPECT_EQ(x.zeroPoint, y.zeroPoint);
      EXPECT_EQ(x.limMin, y.limMin);
      EXPECT_EQ(x.limMax, y.limMax);
    }
  }
  ASSERT_EQ(a.contexts.size(), b.contexts.size());
  for (size_t i = 0; i < a.contexts.size(); ++i) {
    EXPECT_EQ(a.contexts[i].firstOp, b.contexts[i].firstOp);
    EXPECT_EQ(a.contexts[i].opCount, b.contexts[i].opCount);
    EXPECT_EQ(a.contexts[i].weightBytes, b.contexts[i].weightBytes);
    EXPECT_EQ(a.contexts[i].macs, b.contexts[i].macs);
  }
}

TEST(KefFormat, RoundTripKeepsEveryField) {
  for (const Sample& s : kSamples) {
    SCOPED_TRACE(s.name);
    const auto owned = s.make();
    rt::validateProgram(owned->program);
    const auto bytes = rt::writeKef(owned->program, "plan text");
    // An 8-aligned copy, as the parser requires.
    std::vector<uint64_t> aligned((bytes.size() + 7) / 8);
    std::memcpy(aligned.data(), bytes.data(), bytes.size());
    const rt::KefFile f =
        rt::parseKef(reinterpret_cast<const uint8_t*>(aligned.data()), bytes.size());
    EXPECT_EQ(f.version, rt::kKefVersion);
    EXPECT_EQ(f.planText, "plan text");
    expectSamePrograms(owned->program, f.program);
    // Writing the parsed program gives the same bytes.
    EXPECT_EQ(rt::writeKef(f.program, f.planText), bytes);
  }
}

TEST(KefFormat, WritingIsDeterministic) {
  for (const Sample& s : kSamples) {
    EXPECT_EQ(sampleBytes(s), sampleBytes(s)) << s.name;
    const auto owned = s.make();
    EXPECT_EQ(rt::writeKef(owned->program), rt::writeKef(owned->program)) << s.name;
  }
}

TEST(KefFormat, SameIntegersBeforeAndAfterTheRoundTrip) {
  for (const Sample& s : kSamples) {
    SCOPED_TRACE(s.name);
    const auto owned = s.make();
    rt::Executor direct(owned->program);
    for (size_t k = 0; k < owned->program.inputs.size(); ++k) {
      const auto v = inputValues(owned->program.inputs[k], k);
      std::copy(v.begin(), v.end(), direct.input(k));
    }
    direct.run();
    // Through a file on disk: memory-mapped, zero copy.
    const std::string path = testing::TempDir() + "kef_format_" + s.name + ".kef";
    const auto bytes = sampleBytes(s);
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    const auto model = rt::Model::open(path);
    EXPECT_EQ(model->planText(), std::string("plan of ") + s.name);
    rt::Session session(model);
    // Device-typed buffers: uint8 or uint16 by the stream.
    std::vector<std::vector<uint8_t>> in8;
    std::vector<rt::InputBuffer> ins;
    std::vector<rt::OutputBuffer> outs;
    for (size_t k = 0; k < model->inputs().size(); ++k) {
      const auto& st = model->inputs()[k];
      const auto v = inputValues(st, k);
      in8.emplace_back(v.size() * (st.bits == 16 ? 2 : 1));
      for (size_t i = 0; i < v.size(); ++i)
        if (st.bits == 16)
          writeAt<uint16_t>(in8.back(), 2 * i, uint16_t(v[i]));
        else
          in8.back()[i] = uint8_t(v[i]);
      ins.push_back({in8.back().data(), in8.back().size(), rt::BufferType::Auto});
    }
    std::vector<std::vector<uint8_t>> out8;
    for (const auto& st : model->outputs()) {
      out8.emplace_back(size_t(rt::streamElements(st)) * (st.bits == 16 ? 2 : 1));
      outs.push_back({out8.back().data(), out8.back().size(), rt::BufferType::Auto});
    }
    session.run(ins, outs);
    for (size_t k = 0; k < outs.size(); ++k) {
      const auto& st = model->outputs()[k];
      const int64_t n = rt::streamElements(st);
      std::set<int32_t> distinct;
      for (int64_t i = 0; i < n; ++i) {
        int32_t got = st.bits == 16 ? int32_t(readAt<uint16_t>(out8[k], size_t(2 * i)))
                                    : int32_t(out8[k][size_t(i)]);
        ASSERT_EQ(got, direct.output(k)[i]) << st.name << "[" << i << "]";
        distinct.insert(got);
      }
      if (n > 1) {
        EXPECT_GT(distinct.size(), 1u) << st.name << " is constant: a weak test";
      }
    }
    std::remove(path.c_str());
  }
}

TEST(KefFormat, TruncationIsAnError) {
  for (const Sample& s : kSamples) {
    SCOPED_TRACE(s.name);
    const auto bytes = sampleBytes(s);
    for (size_t n = 0; n < bytes.size(); ++n) {
      std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + int64_t(n));
      EXPECT_NE(loadError(cut), "") << n;
      // The same with the header claiming the shorter size (its checksum fixed): the sections and
      // the table must be found outside the file.
      if (n >= rt::kKefHeaderSize) {
        writeAt<uint64_t>(cut, kFileSizeAt, n);
        writeAt<uint32_t>(cut, kHeaderCrcAt, rt::crc32(cut.data(), kHeaderCrcAt));
        rt::LoadOptions o;
        o.verifyChecksums = n % 2 == 0;
        const std::string e = loadError(cut, o);
        EXPECT_THAT(e, HasSubstr("test.kef: ")) << n;
      }
    }
    EXPECT_THAT(loadError({}), HasSubstr("truncated"));
  }
}

TEST(KefFormat, EveryBitFlipIsDetected) {
  for (const Sample& s : kSamples) {
    SCOPED_TRACE(s.name);
    const auto bytes = sampleBytes(s);
    for (size_t at = 0; at < bytes.size(); ++at) {
      auto b = bytes;
      b[at] ^= uint8_t(1u << (at % 8));
      const std::string e = loadError(b);
      ASSERT_NE(e, "") << "flip at byte " << at << " went unnoticed";
      // Magic, version and header size are read before the checksums.
      if (at >= 16) {
        EXPECT_THAT(e, HasSubstr("the file is corrupted")) << at;
      }
    }
  }
}

// With the checksums off the parser and the validation see arbitrary values: loading either
// fails with an Error or gives a program that runs (when it is cheap enough) without crashing.
TEST(KefFormat, MutationsWithoutChecksumsNeverCrash) {
  rt::LoadOptions o;
  o.verifyChecksums = false;
  o.maxArenaBytes = 1 << 20;
  for (const Sample& s : kSamples) {
    SCOPED_TRACE(s.name);
    const auto bytes = sampleBytes(s);
    size_t loaded = 0, ran = 0;
    for (size_t at = 0; at < bytes.size(); ++at)
      for (int m = 0; m < 4; ++m) {
        auto b = bytes;
        const uint8_t values[] = {uint8_t(b[at] ^ (1u << ((at + m) % 8))), 0xFF, 0x00, 0x80};
        if (b[at] == values[m]) continue;
        b[at] = values[m];
        try {
          const auto model = rt::Model::fromBytes(b.data(), b.size(), "mutated.kef", o);
          ++loaded;
          if (model->work() > 1e6) continue;
          rt::Session session(model);
          std::vector<std::vector<uint8_t>> bufs;
          std::vector<rt::InputBuffer> ins;
          std::vector<rt::OutputBuffer> outs;
          for (const auto& st : model->inputs()) {
            bufs.emplace_back(size_t(rt::streamElements(st)) * (st.bits == 16 ? 2 : 1));
            ins.push_back({bufs.back().data(), bufs.back().size(), rt::BufferType::Auto});
          }
          for (const auto& st : model->outputs()) {
            bufs.emplace_back(size_t(rt::streamElements(st)) * 4);
            outs.push_back({bufs.back().data(), bufs.back().size(), rt::BufferType::Float32});
          }
          session.run(ins, outs);
          ++ran;
        } catch (const rt::Error& e) {
          EXPECT_THAT(e.what(), StartsWith("mutated.kef: "));
        }
      }
    // Many mutations hit values (weights, names, scales) that still load.
    std::printf("%s: %zu mutations loaded, %zu of them ran\n", s.name, loaded, ran);
    EXPECT_GT(loaded, bytes.size());
    EXPECT_GT(ran, 0u);
  }
}

TEST(KefFormat, WrongMagic) {
  auto b = sampleBytes(kSamples[2]);
  b[0] = 'X';
  EXPECT_THAT(loadError(b), HasSubstr("magic"));
  EXPECT_THAT(loadError(b), StartsWith("test.kef: not a Kiln executable"));
  const std::vector<uint8_t> text = {'h', 'e', 'l', 'l', 'o', ',', ' ', 'w', 'o', 'r', 'l', 'd'};
  EXPECT_THAT(loadError(text), HasSubstr("magic"));
}

TEST(KefFormat, FutureVersionNamesBothVersions) {
  auto b = sampleBytes(kSamples[2]);
  writeAt<uint32_t>(b, kVersionAt, rt::kKefVersion + 1);
  fixChecksums(b);
  const std::string e = loadError(b);
  EXPECT_THAT(e, HasSubstr("format version " + std::to_string(rt::kKefVersion + 1)));
  EXPECT_THAT(e, HasSubstr("format version " + std::to_string(rt::kKefVersion) + ","));
  EXPECT_THAT(e, HasSubstr("update kilnrt"));
  writeAt<uint32_t>(b, kVersionAt, 0);
  fixChecksums(b);
  EXPECT_THAT(loadError(b), HasSubstr("format version 0"));
}

TEST(KefFormat, UnknownSectionsAreIgnoredMissingOnesNamed) {
  auto b = sampleBytes(kSamples[0]);
  renameSection(b, "plan", "future_thing");
  fixChecksums(b);
  const auto bytes = b;
  const auto model = rt::Model::fromBytes(b.data(), b.size(), "test.kef");
  EXPECT_EQ(model->planText(), "");
  for (const char* name :
       {"meta", "streams", "tensors", "memplan", "layers", "consts", "constdata", "contexts"}) {
    b = bytes;
    renameSection(b, name, "other");
    fixChecksums(b);
    EXPECT_THAT(loadError(b), HasSubstr(std::string("section '") + name + "' is missing"));
  }
  b = bytes;
  renameSection(b, "meta", "contexts");
  fixChecksums(b);
  EXPECT_THAT(loadError(b), HasSubstr("section 'contexts' appears twice"));
}

TEST(KefFormat, PaddingMustBeZero) {
  auto b = sampleBytes(kSamples[0]);
  const auto [off, size] = sectionOf(b, "meta");
  ASSERT_NE((off + size) % rt::kKefAlignment, 0u) << "no padding after 'meta'";
  b[off + size] = 1;
  EXPECT_THAT(loadError(b), HasSubstr("padding: byte " + std::to_string(off + size)));
  EXPECT_THAT(loadError(b), HasSubstr("the file is corrupted"));
  rt::LoadOptions o;
  o.verifyChecksums = false;
  EXPECT_EQ(loadError(b, o), "");
  b = sampleBytes(kSamples[0]);
  b[60] = 7;
  EXPECT_THAT(loadError(b), HasSubstr("byte 60 (reserved, in the header)"));
}

}  // namespace
}  // namespace kiln::test
