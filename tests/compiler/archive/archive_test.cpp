// Archive tests: round trip, deterministic bytes, and corrupted files rejected with a message.
#include <sys/stat.h>

#include <cstdio>
#include <fstream>

#include "common/file_io.h"
#include "common/npy.h"
#include "compiler/archive/archive.h"
#include "compiler/archive/tar.h"
#include "tests/support/test_util.h"

namespace kiln::test {
namespace {

const std::string kDigits = std::string(KILN_SOURCE_DIR) + "/examples/digits/digits_cnn.onnx";

Archive digitsArchive() {
  onnx::ImportOptions o;
  Archive a;
  a.graph = onnx::importFile(kDigits, o);
  a.stages = {"parse"};
  return a;
}

std::string tempPath(const std::string& name) {
  return ::testing::TempDir() + "/" + name;
}

TEST(Archive, RoundTripKeepsGraphAndBytes) {
  const Archive a = digitsArchive();
  const std::string p = tempPath("digits.kar");
  writeArchive(p, a);
  const Archive b = readArchive(p);
  EXPECT_EQ(dump(a.graph), dump(b.graph));
  EXPECT_EQ(b.graphHash, graphHash(a.graph));
  EXPECT_EQ(b.toolVersion, toolVersion());
  EXPECT_EQ(serializeArchive(a), serializeArchive(b));
}

TEST(Archive, ParsingTwiceGivesIdenticalBytes) {
  EXPECT_EQ(serializeArchive(digitsArchive()), serializeArchive(digitsArchive()));
}

TEST(Archive, ExtraEntriesArePreserved) {
  Archive a = digitsArchive();
  a.extra["calibration/stats.json"] = {'{', '}'};
  const std::string p = tempPath("extra.kar");
  writeArchive(p, a);
  EXPECT_EQ(readArchive(p).extra.at("calibration/stats.json"), (std::vector<uint8_t>{'{', '}'}));
}

void expectReadError(const std::vector<uint8_t>& bytes, const std::string& fragment) {
  const std::string p = tempPath("bad.kar");
  files::writeFileAtomic(p, bytes);
  try {
    readArchive(p);
    FAIL() << "expected an error containing: " << fragment;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).rfind(p, 0), 0u) << "message must start with the file name";
  }
}

TEST(Archive, CorruptFilesAreRejected) {
  const std::vector<uint8_t> good = serializeArchive(digitsArchive());
  expectReadError({}, "truncated");
  expectReadError(std::vector<uint8_t>(good.begin(), good.begin() + good.size() / 2), "");
  std::vector<uint8_t> flipped = good;
  flipped[100] ^= 0x40;  // inside the first header
  expectReadError(flipped, "checksum");
  // Change one weight value: the graph hash no longer matches.
  std::vector<tar::Entry> entries = tar::read(good, "x");
  for (auto& [name, data] : entries)
    if (name.find("conv1.kernel") != std::string::npos) data[data.size() - 1] ^= 0x01;
  expectReadError(tar::write(entries), "graph hash");
  // A newer format version names both versions.
  entries = tar::read(good, "x");
  std::string meta(entries[0].second.begin(), entries[0].second.end());
  meta.replace(meta.find("\"format_version\": 1"), 19, "\"format_version\": 9");
  entries[0].second.assign(meta.begin(), meta.end());
  expectReadError(tar::write(entries), "archive format version 9 is newer");
  expectReadError(tar::write({{"readme.txt", {'h', 'i'}}}),
                  "not a Kiln archive: it has no kiln.json");
}

TEST(Archive, FailedWriteLeavesNothingBehind) {
  // The parent "directory" is a regular file: it can be neither created nor written into.
  const std::string blocker = tempPath("blocker");
  files::writeFileAtomic(blocker, {'x'});
  const std::string p = blocker + "/out.kar";
  EXPECT_ANY_THROW(writeArchive(p, digitsArchive()));
  struct stat st;
  EXPECT_NE(::stat(p.c_str(), &st), 0);
}

TEST(Archive, MissingOutputDirectoriesAreCreated) {
  const std::string p = tempPath("new-dir/sub/out.kar");
  writeArchive(p, digitsArchive());
  EXPECT_EQ(readArchive(p).graph.layers.size(), digitsArchive().graph.layers.size());
}

TEST(Npy, RoundTripAndValidation) {
  const npy::Array a = npy::fromFloat({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {2, 3});
  const auto bytes = npy::serialize(a);
  EXPECT_EQ((bytes.size() - 4 * 6) % 64, 0u);
  const npy::Array b = npy::parse(bytes, "mem");
  EXPECT_EQ(b.shape, (Shape{2, 3}));
  EXPECT_EQ(b.toFloat(), a.toFloat());
  std::vector<uint8_t> cut(bytes.begin(), bytes.end() - 4);
  EXPECT_THROW(npy::parse(cut, "mem"), npy::NpyError);
  std::vector<uint8_t> notNpy = {'h', 'e', 'l', 'l', 'o', '!', '!', '!', '!', '!', '!'};
  EXPECT_THROW(npy::parse(notNpy, "mem"), npy::NpyError);
}

}  // namespace
}  // namespace kiln::test
