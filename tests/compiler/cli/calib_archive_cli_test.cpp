// Issue 12, calibration and archive items, from the command line on the shipped digits CNN:
// FIFOs and directories given as data files, one outlier in the calibration set, extreme
// calibration values and script ranges, and corrupted optimized archives.
#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include "common/file_io.h"
#include "common/npy.h"
#include "compiler/archive/archive.h"
#include "compiler/archive/tar.h"
#include "tests/support/cli_test_util.h"

namespace kiln::test {
namespace {

const std::string& kDir = kDigitsDir;

std::string tmp(const std::string& name) {
  return testTmp("calarch", name);
}

CliRun kiln(const std::string& args) {
  return runKiln("calarch", args);
}

std::string parsed() {
  const std::string kar = tmp("digits.kar");
  EXPECT_EQ(kiln("parser onnx " + kDir + "digits_cnn.onnx --har-path " + kar).status, 0);
  return kar;
}

/// The digits calibration set with `edit` applied to its float values, saved under `name`.
std::string calibWith(const std::string& name,
                      const std::function<void(std::vector<float>&)>& edit) {
  const npy::Array a = npy::load(kDir + "calib.npy");
  std::vector<float> v = a.toFloat();
  edit(v);
  const std::string p = tmp(name);
  files::writeFileAtomic(p, npy::serialize(npy::fromFloat(v, a.shape)));
  return p;
}

std::string script(const std::string& text) {
  const std::string p = tmp("model.alls");
  std::ofstream(p) << text;
  return p;
}

CliRun optimize(const std::string& kar, const std::string& calib, const std::string& out,
                const std::string& extra = "") {
  return kiln("optimize " + kar + " --calib-set-path " + calib + " --output-har-path " + out +
              extra);
}

double accuracy(const std::string& kar) {
  const CliRun inf = kiln("infer " + kar + " --target quantized --input-files " + kDir +
                          "test_x.npy --output-dir " + tmp("q"));
  EXPECT_EQ(inf.status, 0) << inf.err;
  const auto logits = npy::load(tmp("q") + "/logits.npy").toFloat();
  const auto labels = npy::load(kDir + "test_y.npy").toFloat();
  int correct = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const auto row = logits.begin() + long(i * 10);
    correct += int(std::max_element(row, row + 10) - row) == int(labels[i]);
  }
  return 100.0 * correct / double(labels.size());
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// A FIFO named like an .npy file blocked `kiln optimize` and `kiln infer` forever; a directory
// as --input-files failed with "basic_filebuf::underflow ... Is a directory" and no path.
TEST(CalibArchiveCli, FifoAndDirectoryAsDataFilesAreRefused) {
  const std::string fifo = tmp("x.npy"), dir = tmp("d.npy");
  ::unlink(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  ::mkdir(dir.c_str(), 0755);
  const std::string kar = parsed();
  CliRun r = optimize(kar, fifo, tmp("opt.kar"));
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(contains(r.err, fifo + ": expected a regular file, found a FIFO (named pipe)"))
      << r.err;
  for (const std::string& f : {fifo, dir}) {
    r = kiln("infer " + kar + " --target native --input-files " + f + " --output-dir " + tmp("o"));
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_TRUE(contains(r.err, f + ": expected a regular file, found a")) << r.err;
    EXPECT_FALSE(contains(r.err, "internal")) << r.err;
  }
}

// One value of 1e10 in one sample took int8 accuracy from 99.72 % to 10 % without a word.
TEST(CalibArchiveCli, NonUtf8DirectoryNamesReachTheReportAsReplacementCharacters) {
  // The calibration set's path is recorded in the report (JSON, which must be UTF-8): a directory
  // named with a Latin-1 byte once ended in "internal error: [json.exception.type_error.316]".
  const std::string dir = tmp("cal\xE9");
  files::makeDirs(dir);
  files::writeFileAtomic(dir + "/calib.npy", files::readFile(kDir + "calib.npy"));
  const std::string out = tmp("u.kar");
  const CliRun r = kiln("optimize " + parsed() + " --calib-set-path '" + dir +
                        "/calib.npy' --report-samples 2 --output-har-path " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string report = files::readText(out + ".report.json");
  EXPECT_NE(report.find("cal\xEF\xBF\xBD/calib.npy"), std::string::npos) << report;
  EXPECT_EQ(kiln("info " + out).status, 0);
}

TEST(CalibArchiveCli, OneOutlierSampleIsLeftOutWithAWarning) {
  const std::string calib = calibWith("outlier.npy", [](std::vector<float>& v) {
    v[17 * 64 + 30] = 1e10f;  // sample 17 (8x8 images)
  });
  const std::string out = tmp("opt.kar");
  const CliRun r = optimize(parsed(), calib, out);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "input 'input': sample 17 (0-based) of")) << r.err;
  EXPECT_TRUE(contains(r.err, "values up to 1e+10")) << r.err;
  EXPECT_TRUE(contains(r.err, "left out of calibration")) << r.err;
  EXPECT_GE(accuracy(out), 99.0);
}

// Extreme values and script ranges ended as "internal: multiplier inf out of range" or, later,
// "qp_scale 0.000000 outside ...": now user errors naming the layer, its range and the cause.
TEST(CalibArchiveCli, ExtremeRangesAreUserErrorsNamingTheLayer) {
  const std::string kar = parsed();
  const std::string huge = calibWith("huge.npy", [](std::vector<float>& v) {
    for (float& x : v) x = x * 1e37f;
  });
  CliRun r = optimize(kar, huge, tmp("opt.kar"));
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "kiln: error: layer ")) << r.err;
  EXPECT_TRUE(contains(r.err, "too large to quantize")) << r.err;
  EXPECT_FALSE(contains(r.err, "internal")) << r.err;
  const std::string tiny = calibWith("tiny.npy", [](std::vector<float>& v) {
    for (float& x : v) x = x * 1e-40f;
  });
  r = optimize(kar, tiny, tmp("opt.kar"));
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "too small to quantize")) << r.err;
  EXPECT_FALSE(contains(r.err, "internal")) << r.err;
  r = optimize(
      kar, kDir + "calib.npy", tmp("opt.kar"),
      " --model-script " + script("quantization_param(conv1, force_range_out=[0, 1e-35])\n"));
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "layer conv1 (conv, ONNX ")) << r.err;
  EXPECT_TRUE(contains(r.err, "force_range_out")) << r.err;
  EXPECT_FALSE(contains(r.err, "internal")) << r.err;
  r = optimize(kar, kDir + "calib.npy", tmp("opt.kar"),
               " --model-script " + script("normalization([1e38], [1e-38])\n"));
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "kiln: error: layer ")) << r.err;
  EXPECT_FALSE(contains(r.err, "internal")) << r.err;
}

// Flipping one byte of an integer parameter in an optimized archive went unnoticed by kiln
// info, kiln infer and kiln compiler (348 of 360 digits logits changed).
TEST(CalibArchiveCli, CorruptedOptimizedArchiveIsRefusedEverywhere) {
  const std::string good = tmp("opt.kar");
  ASSERT_EQ(optimize(parsed(), kDir + "calib.npy", good).status, 0);
  std::vector<tar::Entry> entries = tar::read(files::readFile(good), good);
  std::string flipped;
  for (auto& [name, data] : entries)
    if (flipped.empty() && name.rfind("qparams/", 0) == 0) {
      data[data.size() - 1] ^= 0x10;
      flipped = name;
    }
  ASSERT_FALSE(flipped.empty());
  const std::string bad = tmp("bad.kar");
  files::writeFileAtomic(bad, tar::write(entries));
  const std::string want = bad + ": entry " + flipped + " does not match its SHA-256 in kiln.json";
  for (const std::string& cmd :
       {"info " + bad,
        "infer " + bad + " --target quantized --input-files " + kDir + "test_x.npy --output-dir " +
            tmp("q"),
        "compiler " + bad + " --hw-arch hailo8 --output-dir " + tmp("kef")}) {
    const CliRun r = kiln(cmd);
    EXPECT_EQ(r.status, 1) << cmd << "\n" << r.err;
    EXPECT_TRUE(contains(r.err, want)) << cmd << "\n" << r.err;
  }
}

// An archive edited with its hashes recomputed, holding a stage qmax no optimizer writes: the
// runtime's check ("stage qmax = 16777471 ...") did not say which archive.
TEST(CalibArchiveCli, InvalidQuantizationParametersNameTheArchive) {
  const std::string good = tmp("opt.kar");
  ASSERT_EQ(optimize(parsed(), kDir + "calib.npy", good).status, 0);
  Archive a = readArchive(good);
  Layer& conv = a.graph.layers.at(size_t(a.graph.find("conv1")));
  conv.qparams.at("stage_misc").data.at(2) = 16777471;  // [zero point, qmin, qmax, ...]
  const std::string bad = tmp("bad.kar");
  writeArchive(bad, a);
  for (const std::string& cmd : {"compiler " + bad + " --hw-arch hailo8 --output-dir " + tmp("kef"),
                                 "infer " + bad + " --target quantized --input-files " + kDir +
                                     "test_x.npy --output-dir " + tmp("q")}) {
    const CliRun r = kiln(cmd);
    EXPECT_EQ(r.status, 1) << cmd << "\n" << r.err;
    EXPECT_TRUE(contains(
        r.err, "kiln: error: " + bad +
                   ": the archive's quantization parameters do not make a valid program: "))
        << cmd << "\n"
        << r.err;
    EXPECT_TRUE(contains(r.err, "16777471")) << r.err;
  }
}

}  // namespace
}  // namespace kiln::test
