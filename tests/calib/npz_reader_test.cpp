// readZip on hostile .npz files found by the calib fuzz target (tests/fuzz/regressions/calib/).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <string>

#include "calib/calib_set.h"
#include "calib/npz_reader.h"
#include "common/file_io.h"

namespace kiln::calib {
namespace {

// Peak resident memory of this process so far, in KiB.
long peakRssKiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// A small .npz whose deflated member declares 2,147,736,576 plain bytes (below the 4 GiB member
// limit) but holds only a few hundred: the reader used to allocate and zero the declared size
// before inflating (2 GiB; out of memory under the fuzzer's -rss_limit_mb). The buffer now grows
// with zlib's output, and the short data is the error.
TEST(NpzReader, DeclaredSizeIsNotAllocatedUpFront) {
  const std::string path =
      std::string(KILN_SOURCE_DIR) + "/tests/fuzz/regressions/calib/npz_declares_2gib.npz";
  const auto bytes = files::readFile(path);
  const long before = peakRssKiB();
  try {
    readZip(bytes, "calib.npz");
    FAIL() << "expected CalibError";
  } catch (const CalibError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("calib.npz"), std::string::npos) << msg;
    EXPECT_NE(msg.find("member 'input.npy'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("deflate data ends early"), std::string::npos) << msg;
  }
  EXPECT_LT(peakRssKiB() - before, 256 * 1024) << "peak memory grew by more than 256 MiB";
}

}  // namespace
}  // namespace kiln::calib
