// Archive tests: round trip, deterministic bytes, and corrupted files rejected with a message.
#include <sys/stat.h>

#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

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

nlohmann::json metaOf(const std::vector<tar::Entry>& entries) {
  return nlohmann::json::parse(entries.at(0).second.begin(), entries.at(0).second.end());
}

void setMeta(std::vector<tar::Entry>& entries, const nlohmann::json& meta) {
  const std::string text = meta.dump(2) + "\n";
  entries.at(0).second.assign(text.begin(), text.end());
}

/// The archive as format version 1 wrote it: kiln.json without entry hashes.
std::vector<tar::Entry> asVersion1(std::vector<tar::Entry> entries) {
  nlohmann::json meta = metaOf(entries);
  meta.erase("entries");
  meta.erase("content_hash");
  meta["format_version"] = 1;
  setMeta(entries, meta);
  return entries;
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
  // Change one weight value: its entry hash no longer matches (the entry is named).
  std::vector<tar::Entry> entries = tar::read(good, "x");
  for (auto& [name, data] : entries)
    if (name.find("conv1.kernel") != std::string::npos) data[data.size() - 1] ^= 0x01;
  expectReadError(tar::write(entries),
                  "entry params/conv1.kernel.npy does not match its SHA-256 in kiln.json");
  // The same change in a format-version-1 archive (no entry hashes): the graph hash catches it.
  expectReadError(tar::write(asVersion1(entries)), "graph hash");
  // A newer format version names both versions.
  entries = tar::read(good, "x");
  nlohmann::json meta = metaOf(entries);
  meta["format_version"] = 9;
  setMeta(entries, meta);
  expectReadError(tar::write(entries), "archive format version 9 is newer");
  expectReadError(tar::write({{"readme.txt", {'h', 'i'}}}),
                  "not a Kiln archive: it has no kiln.json");
}

// Issue 12: one flipped byte in an integer parameter of an optimized archive went unnoticed
// (only the float graph was hashed). Every entry and kiln.json itself are now checked.
TEST(Archive, EveryEntryAndKilnJsonAreHashed) {
  Archive a = digitsArchive();
  IntTensor q;
  q.shape = {4};
  q.bits = 8;
  q.isSigned = true;
  q.data = {1, -2, 3, -4};
  Layer& l = a.graph.layers[1];
  l.qparams["kernel"] = q;  // integer parameters, not part of the graph hash
  QuantInfo out;
  out.bits = 8;
  out.scale = 0.1;
  out.min = 0;
  out.max = 25.5;
  l.outputQuant = {out};
  l.precision = "a8_w8";
  l.precisionSource = "default";
  a.extra["optimize/report.json"] = {'{', '}'};
  const std::vector<uint8_t> good = serializeArchive(a);
  const std::string qfile = "qparams/" + a.graph.layers[1].name + ".kernel.npy";
  auto changed = [&](const std::string& entry) {
    std::vector<tar::Entry> entries = tar::read(good, "x");
    for (auto& [name, data] : entries)
      if (name == entry) data[data.size() - 1] ^= 0x01;
    return entries;
  };
  expectReadError(tar::write(changed(qfile)),
                  "entry " + qfile + " does not match its SHA-256 in kiln.json");
  expectReadError(tar::write(changed("optimize/report.json")),
                  "entry optimize/report.json does not match its SHA-256");
  expectReadError(tar::write(changed("network.json")), "entry network.json does not match");
  // kiln.json's own fields: a changed stage list.
  std::vector<tar::Entry> entries = tar::read(good, "x");
  nlohmann::json meta = metaOf(entries);
  meta["stages"] = {"parse", "optimize"};
  setMeta(entries, meta);
  expectReadError(tar::write(entries), "kiln.json does not match its content_hash");
  // An entry added or removed.
  entries = tar::read(good, "x");
  entries.emplace_back("extra.txt", std::vector<uint8_t>{'x'});
  expectReadError(tar::write(entries), "entry extra.txt is not listed in kiln.json's entries");
  entries = tar::read(good, "x");
  entries.pop_back();
  expectReadError(tar::write(entries), "entry optimize/report.json listed in kiln.json is missing");
  // Hashes removed from a version-2 kiln.json.
  entries = tar::read(good, "x");
  meta = metaOf(entries);
  meta.erase("entries");
  setMeta(entries, meta);
  expectReadError(tar::write(entries), "format version 2 needs the fields 'entries'");
  // Version 1 archives (no hashes) are still read.
  const std::string p = tempPath("v1.kar");
  files::writeFileAtomic(p, tar::write(asVersion1(tar::read(good, "x"))));
  EXPECT_EQ(readArchive(p).graph.layers[1].qparams.at("kernel").data, q.data);
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
