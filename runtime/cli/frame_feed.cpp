#include "runtime/cli/frame_feed.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>

#include "common/npy.h"
#include "runtime/api/user_arrays.h"

namespace kiln::rt::cli {

namespace {

constexpr uint32_t kSeed = 12345;

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Reads exactly `bytes` bytes at `offset` of an open file; a short read means the file changed
// since its header was checked.
void readAt(int fd, uint64_t offset, uint8_t* dst, size_t bytes, const std::string& name) {
  while (bytes > 0) {
    const ssize_t got = ::pread(fd, dst, bytes, off_t(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0)
      throw Error(name + ": cannot read the data at byte " + std::to_string(offset) + " (" +
                  (got < 0 ? std::strerror(errno) : "the file became shorter") + ")");
    dst += got;
    offset += uint64_t(got);
    bytes -= size_t(got);
  }
}

}  // namespace

FrameFeeder::FrameFeeder(FrameFeeder&& o) noexcept
    : inputs_(std::move(o.inputs_)),
      names_(std::move(o.names_)),
      inTypes_(std::move(o.inTypes_)),
      outType_(o.outType_),
      samples_(o.samples_),
      piece_(std::move(o.piece_)) {
  o.inputs_.clear();
}

FrameFeeder& FrameFeeder::operator=(FrameFeeder&& o) noexcept {
  if (this != &o) {
    closeFiles();
    inputs_ = std::move(o.inputs_);
    o.inputs_.clear();
    names_ = std::move(o.names_);
    inTypes_ = std::move(o.inTypes_);
    outType_ = o.outType_;
    samples_ = o.samples_;
    piece_ = std::move(o.piece_);
  }
  return *this;
}

FrameFeeder::~FrameFeeder() {
  closeFiles();
}

void FrameFeeder::closeFiles() {
  for (Input& in : inputs_)
    if (in.fd >= 0) ::close(in.fd);
  inputs_.clear();
}

FrameFeeder FrameFeeder::fromFiles(const Model& m, const std::vector<std::string>& files,
                                   const std::string& inputFormat) {
  // The count first: no file is read for a command line that cannot run.
  checkInputCount(m, files.size(), "--input-files");
  std::vector<UserArray> described;
  std::vector<uint64_t> offsets;
  for (const std::string& file : files) {
    uint64_t offset = 0;
    const npy::Array header = npy::loadHeader(file, offset);
    described.push_back({file, header.type, header.shape});
    offsets.push_back(offset);
  }
  const ArrayFeeds feeds = checkInputArrays(m, described, inputFormat);
  FrameFeeder f;
  f.piece_.resize(size_t(kPieceElements) * 4);
  for (size_t k = 0; k < files.size(); ++k) {
    Input in;
    in.offset = offsets[k];
    in.frameBytes = feeds.inputs[k].frameBytes;
    in.fd = ::open(files[k].c_str(), O_RDONLY | O_CLOEXEC);
    if (in.fd < 0) throw Error(files[k] + ": cannot open (" + std::strerror(errno) + ")");
    f.inputs_.push_back(std::move(in));
    f.names_.push_back(files[k]);
    f.inTypes_.push_back(feeds.inputs[k].type);
  }
  f.samples_ = feeds.frames;
  return f;
}

FrameFeeder FrameFeeder::random(const Model& m, const std::string& inputFormat) {
  FrameFeeder f;
  f.piece_.resize(size_t(kPieceElements) * 4);
  std::mt19937 rng(kSeed);
  for (const StreamDesc& s : m.inputs()) {
    const BufferType t = inputFormat.empty() ? BufferType::Float32 : parseBufferType(inputFormat);
    if (t == BufferType::UInt16 && s.bits == 8)
      throw Error("input '" + s.name +
                  "' is uint8 on the device; --input-format-type uint16 cannot be narrowed");
    const size_t n = size_t(streamElements(s)), es = elementBytes(t, s);
    Input in;
    in.frameBytes = n * es;
    if (t == BufferType::Float32) {
      in.randomFloat = true;  // drawn at every frame (runFrame), from the same seed
    } else {
      in.held.resize(n * es);
      std::uniform_int_distribution<int> d(0, es == 1 ? 255 : int((1 << s.bits) - 1));
      for (size_t i = 0; i < n; ++i) {
        const uint16_t v = uint16_t(d(rng));
        std::memcpy(in.held.data() + es * i, &v, es);
      }
    }
    f.inputs_.push_back(std::move(in));
    f.names_.push_back(s.name);
    f.inTypes_.push_back(t);
  }
  f.samples_ = 1;
  return f;
}

void FrameFeeder::setOutputType(const Model& m, BufferType type) {
  for (const StreamDesc& s : m.outputs())
    if (type == BufferType::UInt8 && s.bits == 16)
      throw Error("output stream '" + s.name +
                  "' is uint16 on the device; --user-format-type uint8 cannot hold it (use auto, "
                  "uint16 or float32)");
  outType_ = type;
}

double FrameFeeder::runFrame(Session& s, int64_t i) {
  const Model& m = s.model();
  const int64_t sample = samples_ > 0 ? i % samples_ : 0;
  double seconds = 0;
  // Random floats: the values of one draw from the seed, stream after stream, at every frame.
  std::mt19937 rng;
  bool seeded = false;
  for (size_t k = 0; k < inputs_.size(); ++k) {
    const Input& in = inputs_[k];
    const StreamDesc& sd = m.inputs()[k];
    const BufferType t = inTypes_[k];
    if (!in.held.empty()) {
      const auto t0 = Clock::now();
      s.setInput(k, 0, {in.held.data(), in.frameBytes, t});
      seconds += since(t0);
      continue;
    }
    if (in.randomFloat && !seeded) {
      rng.seed(kSeed);
      seeded = true;
    }
    std::uniform_real_distribution<float> d(sd.limMin, sd.limMax);
    const int64_t n = streamElements(sd);
    const size_t es = elementBytes(t, sd);
    for (int64_t first = 0; first < n; first += kPieceElements) {
      const int64_t count = std::min(kPieceElements, n - first);
      const size_t bytes = size_t(count) * es;
      if (in.randomFloat) {
        for (int64_t j = 0; j < count; ++j) {
          const float v = d(rng);
          std::memcpy(piece_.data() + 4 * j, &v, 4);
        }
      } else {
        readAt(in.fd, in.offset + uint64_t(sample) * in.frameBytes + uint64_t(first) * es,
               piece_.data(), bytes, names_[k]);
      }
      const auto t0 = Clock::now();
      s.setInput(k, first, {piece_.data(), bytes, t});
      seconds += since(t0);
    }
  }
  const auto t0 = Clock::now();
  s.compute();
  for (size_t k = 0; k < m.outputs().size(); ++k) {
    const StreamDesc& sd = m.outputs()[k];
    const int64_t n = streamElements(sd);
    const size_t es = elementBytes(outType_, sd);
    for (int64_t first = 0; first < n; first += kPieceElements) {
      const int64_t count = std::min(kPieceElements, n - first);
      s.getOutput(k, first, {piece_.data(), size_t(count) * es, outType_});
    }
  }
  return seconds + since(t0);
}

}  // namespace kiln::rt::cli
