// How kilnrt run and kilnrt benchmark feed frames without holding a whole user copy of the
// inputs or outputs: each frame's inputs go into the session in pieces of kPieceElements
// elements (read from the --input-files at every frame, or regenerated from the random seed),
// and the outputs come out in pieces into one small buffer. A float32 input of PP-OCR 640
// (4.9 MB) and its float output (1.6 MB) thus cost 256 KB each; the conversions still run at
// every frame, so the latency includes them as before.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/api/runtime.h"

namespace kiln::rt::cli {

/// Elements per piece: 256 KB of float32.
constexpr int64_t kPieceElements = 64 * 1024;

class FrameFeeder {
 public:
  /// One .npy per input stream, checked as kilnrt infer checks them (shape [N, ...]: N samples,
  /// frame i uses sample i mod N); only the headers are read here, the data at every frame.
  static FrameFeeder fromFiles(const Model& m, const std::vector<std::string>& files,
                               const std::string& inputFormat);
  /// Random inputs (fixed seed): device integers for auto/uint8/uint16 (held, 1 or 2 bytes per
  /// element), floats within limvals for float32 (the default, `inputFormat` ""), regenerated
  /// from the seed at every frame: every frame gets the same values.
  static FrameFeeder random(const Model& m, const std::string& inputFormat);
  FrameFeeder() = default;
  FrameFeeder(FrameFeeder&&) noexcept;
  FrameFeeder& operator=(FrameFeeder&&) noexcept;
  FrameFeeder(const FrameFeeder&) = delete;
  FrameFeeder& operator=(const FrameFeeder&) = delete;
  ~FrameFeeder();

  /// The output format (checked against every output stream).
  void setOutputType(const Model& m, BufferType type);
  /// Runs frame i (sample i mod samples()) and returns the seconds of the session's calls (the
  /// conversions and the operations; not reading the files or drawing random values).
  double runFrame(Session& s, int64_t i);

  int64_t samples() const { return samples_; }
  const std::vector<BufferType>& inputTypes() const { return inTypes_; }

 private:
  struct Input {
    int fd = -1;                // --input-files: the open file, its data at `offset`
    uint64_t offset = 0;        //
    std::vector<uint8_t> held;  // random device integers
    bool randomFloat = false;   // regenerated from the seed at every frame
    size_t frameBytes = 0;
  };
  void closeFiles();
  std::vector<Input> inputs_;
  std::vector<std::string> names_;  // the file (or stream) of each input, for errors
  std::vector<BufferType> inTypes_;
  BufferType outType_ = BufferType::Float32;
  int64_t samples_ = 1;
  std::vector<uint8_t> piece_;  // kPieceElements float32
};

}  // namespace kiln::rt::cli
