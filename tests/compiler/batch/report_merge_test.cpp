// `kiln report merge` on bad shard reports: the same shard twice (one file given twice, or a copy
// of it), a `results` that is not a list; and a manifest network whose name is one of the run's
// own files (report.json) getting a directory of its own.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "compiler/batch/network_config.h"
#include "compiler/batch/report.h"
#include "compiler/ir/types.h"

namespace kiln::batch {
namespace {

namespace fs = std::filesystem;

std::string freshDir(const std::string& what) {
  const std::string d =
      (fs::path(::testing::TempDir()) / ("batch_merge_" + what)).lexically_normal().string();
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// A shard report of a two-network manifest (a, b) holding `net` (index `index`).
std::string shard(const std::string& shardId, const std::string& net, int index,
                  const std::string& results = "") {
  const std::string entry = "{\"index\": " + std::to_string(index) + ", \"network\": \"" + net +
                            "\", \"target\": \"hailo8\", \"status\": \"failed\", \"seconds\": "
                            "1.0, \"log\": \"" +
                            net + "/compile.log\", \"error\": \"x\"}";
  return "{\"format\": \"kiln-report-1\", \"kiln_version\": \"t\", \"manifest\": {\"path\": "
         "\"zoo.yaml\", \"name\": \"zoo\", \"networks\": [\"a\", \"b\"]}, \"shards\": [\"" +
         shardId +
         "\"], \"started\": \"2024-01-01T00:00:00\", \"hosts\": [\"h\"], \"wall_seconds\": 1.0, "
         "\"summary\": {}, \"results\": " +
         (results.empty() ? "[" + entry + "]" : results) + "}";
}

std::string write(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string p = dir + "/" + name;
  std::ofstream(p) << text;
  return p;
}

std::string mergeError(const std::vector<std::string>& paths) {
  try {
    mergeReports(paths);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ReportMerge, TwoShardsMergeIntoTwoResults) {
  const std::string d = freshDir("two");
  const auto r = mergeReports(
      {write(d, "1.json", shard("1/2", "a", 0)), write(d, "2.json", shard("2/2", "b", 1))});
  EXPECT_EQ(r["results"].size(), 2u);
  EXPECT_TRUE(r["summary"]["missing"].empty());
}

TEST(ReportMerge, TheSameShardTwiceIsAnErrorNamingBothFiles) {
  const std::string d = freshDir("twice");
  const std::string one = write(d, "1.json", shard("1/2", "a", 0)),
                    two = write(d, "2.json", shard("2/2", "b", 1)),
                    copy = write(d, "copy.json", shard("1/2", "a", 0));
  // One file given twice: 3 results for a 2-network manifest before.
  EXPECT_NE(mergeError({one, one, two}).find(one + ": this report is given twice (also as " + one),
            std::string::npos)
      << mergeError({one, one, two});
  // A copy of a shard's report.
  const std::string e = mergeError({one, copy, two});
  EXPECT_NE(e.find(copy + ": shard 1/2 is in " + one + " too"), std::string::npos) << e;
}

TEST(ReportMerge, ResultsNotAListBlamesTheShardFile) {
  const std::string d = freshDir("notlist");
  const std::string one = write(d, "1.json", shard("1/2", "a", 0)),
                    bad = write(d, "bad.json", shard("2/2", "b", 1, "{\"x\": 1}"));
  const std::string e = mergeError({one, bad});
  EXPECT_NE(e.find(bad + ": not a valid Kiln report: results: expected a list, found object"),
            std::string::npos)
      << e;
  const std::string entry = write(d, "entry.json", shard("2/2", "b", 1, "[{\"network\": 3}]"));
  EXPECT_NE(mergeError({one, entry}).find(entry + ": not a valid Kiln report: results[0].network"),
            std::string::npos)
      << mergeError({one, entry});
}

TEST(ReportMerge, NetworkNamedLikeTheRunsOwnFilesGetsAnotherDirectory) {
  EXPECT_EQ(networkDir("report.json"), "_report.json");
  EXPECT_EQ(networkDir("report.xml"), "_report.xml");
  EXPECT_EQ(networkDir("resnet"), "resnet");
  EXPECT_EQ(networkDir("report"), "report");
}

}  // namespace
}  // namespace kiln::batch
