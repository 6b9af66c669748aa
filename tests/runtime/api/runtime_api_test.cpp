// The runtime's C++ API (runtime/api/runtime.h) on real executables: the digits CNN compiled at
// a8_w8 and a16_w16 by the kiln binary. Two models in one process used alternately, sessions on
// several threads, and the buffer rules (sizes, narrowing, widening).
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>

#include "common/npy.h"
#include "runtime/api/runtime.h"

namespace kiln::rt {
namespace {

const std::string kDigits = std::string(KILN_SOURCE_DIR) + "/examples/digits/";
constexpr int64_t kFrames = 24;

struct Kefs {
  std::string a8, a16;
};

// A directory removed at exit.
struct TempDir {
  std::string path = ::testing::TempDir() + "/kilnrt_api_" + std::to_string(::getpid()) + "/";
  ~TempDir() { std::system(("rm -rf " + path).c_str()); }
};

// Compiles the digits CNN once per process with the kiln binary (parser, optimize, compiler).
const Kefs& kefs() {
  static const TempDir tmp;
  static const Kefs k = [] {
    const std::string dir = tmp.path;
    const std::string kiln = KILN_BINARY;
    auto sh = [](const std::string& cmd) {
      const int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
      EXPECT_EQ(rc, 0) << cmd;
    };
    sh("mkdir -p " + dir);
    sh(kiln + " parser onnx " + kDigits + "digits_cnn.onnx --har-path " + dir + "d.kar");
    Kefs out;
    for (const std::string bits : {"8", "16"}) {
      const std::string script =
          bits == "16" ? " --model-script " + kDigits + "digits_a16.alls" : "";
      sh(kiln + " optimize " + dir + "d.kar --calib-set-path " + kDigits + "calib.npy" + script +
         " --report-samples 2 --output-har-path " + dir + "a" + bits + ".kar");
      sh(kiln + " compiler " + dir + "a" + bits + ".kar --output-dir " + dir + "a" + bits);
      (bits == "8" ? out.a8 : out.a16) = dir + "a" + bits + "/digits_cnn.kef";
    }
    return out;
  }();
  return k;
}

const npy::Array& testX() {
  static const npy::Array x = npy::load(kDigits + "test_x.npy");
  return x;
}

// One frame's output bytes in `type`.
std::vector<uint8_t> runFrame(Session& s, int64_t frame, BufferType type) {
  const StreamDesc& in = s.model().inputs()[0];
  const StreamDesc& out = s.model().outputs()[0];
  const size_t inBytes = size_t(streamElements(in)) * 4;
  std::vector<uint8_t> result(size_t(streamElements(out)) * elementBytes(type, out));
  s.run({{testX().data.data() + size_t(frame) * inBytes, inBytes, BufferType::Float32}},
        {{result.data(), result.size(), type}});
  return result;
}

// Every frame run alone on a fresh session.
std::vector<std::vector<uint8_t>> alone(const std::shared_ptr<const Model>& m, BufferType type) {
  Session s(m);
  std::vector<std::vector<uint8_t>> r;
  for (int64_t f = 0; f < kFrames; ++f) r.push_back(runFrame(s, f, type));
  return r;
}

TEST(RuntimeApi, TwoModelsAlternatingMatchEachRunAlone) {
  const auto a8 = Model::open(kefs().a8), a16 = Model::open(kefs().a16);
  EXPECT_EQ(a8->outputs()[0].bits, 8);
  EXPECT_EQ(a16->outputs()[0].bits, 16);
  for (BufferType type : {BufferType::Auto, BufferType::Float32}) {
    const auto ref8 = alone(a8, type), ref16 = alone(a16, type);
    EXPECT_NE(ref8, ref16) << "two different models should not give the same outputs";
    Session s8(a8), s16(a16), s8b(a8);
    for (int64_t f = 0; f < kFrames; ++f) {
      // A B A' B ...: both models and a second session of the first, frame by frame.
      EXPECT_EQ(runFrame(s8, f, type), ref8[size_t(f)]) << "a8 frame " << f;
      EXPECT_EQ(runFrame(s16, f, type), ref16[size_t(f)]) << "a16 frame " << f;
      EXPECT_EQ(runFrame(s8b, kFrames - 1 - f, type), ref8[size_t(kFrames - 1 - f)]);
    }
  }
}

TEST(RuntimeApi, SessionsOnThreadsShareOneModel) {
  const auto m = Model::open(kefs().a16);
  const auto ref = alone(m, BufferType::Float32);
  std::vector<std::vector<std::vector<uint8_t>>> got(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < got.size(); ++t)
    threads.emplace_back([&, t] {
      Session s(m);  // one session per thread
      for (int64_t f = 0; f < kFrames; ++f) got[t].push_back(runFrame(s, f, BufferType::Float32));
    });
  for (auto& th : threads) th.join();
  for (const auto& g : got) EXPECT_EQ(g, ref);
}

// Every kernel path this CPU runs (KILN_KERNEL_PATH, read when a model is opened) and every
// thread count give the bytes of the portable path on one thread, at a8_w8 and a16_w16.
TEST(RuntimeApi, KernelPathsAndThreadCountsGiveTheSameBytes) {
  for (const std::string& file : {kefs().a8, kefs().a16}) {
    ::setenv("KILN_KERNEL_PATH", "portable", 1);
    const auto ref = alone(Model::open(file), BufferType::Auto);
    for (KernelPath path : supportedKernelPaths()) {
      ::setenv("KILN_KERNEL_PATH", kernelPathName(path), 1);
      const auto m = Model::open(file);
      EXPECT_EQ(m->kernelPath(), path);
      for (int threads : {1, 2, 3}) {
        Session s(m);
        s.setThreads(threads);
        EXPECT_EQ(s.threads(), threads);
        for (int64_t f = 0; f < kFrames; ++f)
          EXPECT_EQ(runFrame(s, f, BufferType::Auto), ref[size_t(f)])
              << file << " path " << kernelPathName(path) << " threads " << threads;
      }
    }
  }
  ::setenv("KILN_KERNEL_PATH", "no-such-path", 1);
  try {
    Model::open(kefs().a8);
    ADD_FAILURE() << "an unknown kernel path was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("KILN_KERNEL_PATH=no-such-path"), std::string::npos)
        << e.what();
  }
  ::unsetenv("KILN_KERNEL_PATH");
  Session s(Model::open(kefs().a8));
  EXPECT_THROW(s.setThreads(0), Error);
}

// A model is validated once, when opened: its sessions run the model's prepared operations
// (each executor holds a reference) instead of validating the file again.
TEST(RuntimeApi, SessionsShareTheModelsValidatedOperations) {
  const auto m = Model::open(kefs().a8);
  ASSERT_NE(m->prepared(), nullptr);
  EXPECT_EQ(m->prepared().use_count(), 1);
  {
    Session s1(m), s2(m);
    EXPECT_EQ(m->prepared().use_count(), 3);
    EXPECT_EQ(runFrame(s1, 0, BufferType::Auto), runFrame(s2, 0, BufferType::Auto));
  }
  EXPECT_EQ(m->prepared().use_count(), 1);
  int64_t sum = 0;
  for (size_t i = 0; i < m->program().ops.size(); ++i) sum += m->opWork(i);
  EXPECT_EQ(m->work(), sum);
  EXPECT_GT(m->work(), m->program().contexts.at(0).macs);  // the MACs and the other operations
}

TEST(RuntimeApi, FromBytesRunsLikeOpen) {
  std::ifstream f(kefs().a8, std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), {});
  const auto mem = Model::fromBytes(bytes.data(), bytes.size(), "digits in memory");
  EXPECT_EQ(mem->fileBytes(), bytes.size());
  EXPECT_EQ(alone(mem, BufferType::Auto), alone(Model::open(kefs().a8), BufferType::Auto));
}

// setInput / compute / getOutput in uneven pieces give the bytes of run() on whole buffers, for
// float and device-integer buffers, on both models.
TEST(RuntimeApi, PiecesGiveTheBytesOfRun) {
  for (const std::string& path : {kefs().a8, kefs().a16}) {
    const auto m = Model::open(path);
    Session whole(m), pieces(m);
    const StreamDesc& in = m->inputs()[0];
    const StreamDesc& out = m->outputs()[0];
    const int64_t nIn = streamElements(in), nOut = streamElements(out);
    for (BufferType type : {BufferType::Float32, BufferType::Auto, BufferType::UInt16}) {
      for (int64_t f = 0; f < 6; ++f) {
        const std::vector<uint8_t> expected = runFrame(whole, f, type);
        const float* x = reinterpret_cast<const float*>(testX().data.data()) + f * nIn;
        for (int64_t first = 0; first < nIn; first += 7)  // 7 does not divide 64
          pieces.setInput(
              0, first,
              {x + first, size_t(std::min<int64_t>(7, nIn - first)) * 4, BufferType::Float32});
        pieces.compute();
        const size_t es = elementBytes(type, out);
        std::vector<uint8_t> got(size_t(nOut) * es);
        for (int64_t first = 0; first < nOut; first += 3)
          pieces.getOutput(0, first,
                           {got.data() + size_t(first) * es,
                            size_t(std::min<int64_t>(3, nOut - first)) * es, type});
        EXPECT_EQ(got, expected) << path << " frame " << f << " " << bufferTypeName(type);
      }
    }
    // A piece must be whole elements within its stream, of a stream that exists.
    std::vector<uint8_t> buf(64 * 4);
    try {
      pieces.setInput(0, nIn - 1, {buf.data(), 8, BufferType::Float32});
      FAIL() << "a piece beyond the stream was accepted";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("'input'"), std::string::npos) << msg;
      EXPECT_NE(msg.find("not whole elements within"), std::string::npos) << msg;
    }
    EXPECT_THROW(pieces.setInput(0, 0, {buf.data(), 6, BufferType::Float32}), Error);
    EXPECT_THROW(pieces.setInput(0, -1, {buf.data(), 4, BufferType::Float32}), Error);
    EXPECT_THROW(pieces.setInput(1, 0, {buf.data(), 4, BufferType::Float32}), Error);
    EXPECT_THROW(pieces.getOutput(0, nOut, {buf.data(), 4, BufferType::Float32}), Error);
    EXPECT_THROW(pieces.getOutput(1, 0, {buf.data(), 4, BufferType::Float32}), Error);
    pieces.getOutput(0, nOut, {buf.data(), 0, BufferType::Float32});  // empty at the end: fine
  }
}

TEST(RuntimeApi, BufferRules) {
  const auto a8 = Model::open(kefs().a8), a16 = Model::open(kefs().a16);
  Session s8(a8), s16(a16);
  std::vector<uint8_t> in(64 * 4), out(10 * 4);
  // Wrong byte size: the error names the stream, the given and the expected size.
  try {
    s8.run({{in.data(), in.size() - 1, BufferType::Float32}},
           {{out.data(), out.size(), BufferType::Float32}});
    FAIL() << "a short buffer was accepted";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("'input'"), std::string::npos) << m;
    EXPECT_NE(m.find("255 bytes, expected 256"), std::string::npos) << m;
  }
  // uint16 data into a uint8 stream: an error.
  EXPECT_THROW(s8.run({{in.data(), 128, BufferType::UInt16}},
                      {{out.data(), out.size(), BufferType::Float32}}),
               Error);
  // A uint8 buffer for a uint16 output: an error.
  EXPECT_THROW(
      s16.run({{in.data(), in.size(), BufferType::Float32}}, {{out.data(), 10, BufferType::UInt8}}),
      Error);
  // uint8 data into a uint16 stream: widened, one warning per session.
  int warnings = 0;
  s16.onWarning = [&](const std::string& w) {
    ++warnings;
    EXPECT_NE(w.find("widened"), std::string::npos) << w;
  };
  for (int i = 0; i < 3; ++i)
    s16.run({{in.data(), 64, BufferType::UInt8}}, {{out.data(), 20, BufferType::Auto}});
  EXPECT_EQ(warnings, 1);
  // The same values given as uint16 give the same outputs.
  std::vector<uint8_t> in16(128, 0), out16(20);
  for (size_t i = 0; i < 64; ++i) in16[2 * i] = in[i];
  s16.run({{in16.data(), 128, BufferType::UInt16}}, {{out16.data(), 20, BufferType::Auto}});
  EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + 20), out16);
}

}  // namespace
}  // namespace kiln::rt
