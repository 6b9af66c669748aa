#include "compiler/batch/report.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>
#include <set>

#include <fmt/core.h>

#include "common/file_io.h"
#include "common/npy.h"
#include "common/strings.h"
#include "compiler/archive/archive.h"
#include "compiler/archive/json_text.h"
#include "compiler/ir/types.h"

namespace kiln::batch {

namespace {

using Json = nlohmann::ordered_json;

double round3(double x) {
  return std::round(x * 1000) / 1000;
}

Json entryJson(const NetworkJob& job, const TargetResult& r, const std::string& logTail) {
  Json e;
  e["index"] = job.index;
  e["network"] = job.name;
  e["target"] = r.target;
  e["status"] = r.status;
  e["seconds"] = round3(r.seconds);
  e["log"] = job.dir + "/compile.log";
  if (r.status == "ok" || r.status == "cached") {
    const Json& s = r.summary;
    Json kef;
    kef["path"] = job.dir + "/" + r.kef;
    if (s.contains("files")) kef["bytes"] = s["files"]["kef"]["bytes"];
    kef["sha256"] = r.kefSha256;
    e["kef"] = kef;
    for (const char* k :
         {"layers", "precision", "output_snr_db", "contexts", "estimated_fps", "verified_samples"})
      if (s.contains(k)) e[k] = s[k];
  } else {
    e["error"] = r.error;
    if (r.status == "failed" && !logTail.empty()) e["log_tail"] = logTail;
  }
  // kiln eval's figures and gates (`eval:` / `expect:`), also when a gate failed the target.
  if (r.summary.contains("eval")) {
    e["eval"] = r.summary["eval"];
    if (!r.summary["eval"].value("passed", true)) e["gate_failed"] = true;
  }
  return e;
}

// `merged`: every network of the manifest is expected (a shard's own report expects its own).
void recount(Json& report, bool merged) {
  std::map<std::string, int> n;
  for (const auto& e : report["results"]) ++n[e["status"].get<std::string>()];
  Json s;
  s["results"] = report["results"].size();
  for (const char* k : {"ok", "cached", "failed", "skipped"}) s[k] = n[k];
  int gates = 0;
  for (const auto& e : report["results"]) gates += e.value("gate_failed", false);
  s["gates_failed"] = gates;
  std::set<std::string> seen;
  for (const auto& e : report["results"]) seen.insert(e["network"].get<std::string>());
  Json missing = Json::array();
  for (const auto& name : report["manifest"]["networks"])
    if (merged && !seen.count(name.get<std::string>())) missing.push_back(name);
  s["missing"] = missing;
  report["summary"] = s;
}

// Text for XML 1.0: escaped, without the control characters XML cannot hold, invalid UTF-8
// bytes replaced by '?'.
std::string xml(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool valid = len > 0 && i + len <= s.size();
    for (size_t k = 1; valid && k < len; ++k)
      valid = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (!valid) {
      out += '?';
      ++i;
      continue;
    }
    if (len > 1) {
      out.append(s, i, len);
      i += len;
      continue;
    }
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
          out += '?';
        else
          out += char(c);
    }
    ++i;
  }
  return out;
}

std::string firstLine(const std::string& s) {
  const std::string line = s.substr(0, s.find('\n'));
  return line.size() > 300 ? line.substr(0, 297) + "..." : line;
}

std::string describeOk(const Json& e) {
  std::string s =
      fmt::format("{}: {}", e["target"].get<std::string>(), e["status"].get<std::string>());
  if (e.contains("kef"))
    s += fmt::format(", {} ({} bytes)", e["kef"]["path"].get<std::string>(),
                     e["kef"].value("bytes", int64_t(0)));
  if (e.contains("output_snr_db"))
    for (const auto& o : e["output_snr_db"])
      s += fmt::format(", {} {:.2f} dB", o["output"].get<std::string>(), o["snr_db"].get<double>());
  if (e.contains("estimated_fps"))
    s += fmt::format(", {:.1f} FPS estimated", e["estimated_fps"].get<double>());
  return s + "\n";
}

}  // namespace

Json buildReport(const Manifest& m, const std::vector<NetworkOutcome>& outcomes,
                 const RunInfo& run) {
  Json r;
  r["format"] = "kiln-report-1";
  r["kiln_version"] = toolVersion();
  Json names = Json::array();
  for (const auto& j : m.networks) names.push_back(j.name);
  r["manifest"] = {{"path", m.path}, {"name", m.name}, {"networks", names}};
  r["shards"] = Json::array({run.shard});
  r["started"] = run.started;
  r["hosts"] = Json::array({run.host});
  r["wall_seconds"] = round3(run.wallSeconds);
  r["summary"] = Json::object();
  r["results"] = Json::array();
  for (const NetworkOutcome& o : outcomes)
    for (const TargetResult& t : o.targets) r["results"].push_back(entryJson(*o.job, t, o.logTail));
  recount(r, false);
  return r;
}

std::string junitXml(const Json& report) {
  const auto& results = report["results"];
  const std::string manifest = report["manifest"]["name"].get<std::string>();
  std::string suites;
  int tests = 0, failures = 0, skipped = 0;
  double total = 0;
  for (size_t i = 0; i < results.size();) {
    size_t end = i;
    while (end < results.size() && results[end]["network"] == results[i]["network"]) ++end;
    const std::string net = results[i]["network"].get<std::string>();
    int f = 0, sk = 0;
    double time = 0;
    std::string cases, out;
    for (size_t k = i; k < end; ++k) {
      const Json& e = results[k];
      const std::string status = e["status"].get<std::string>();
      const double sec = e["seconds"].get<double>();
      time += sec;
      cases += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\"", xml(net),
                           xml(e["target"].get<std::string>()), sec);
      if (status == "failed") {
        ++f;
        const std::string err = e.value("error", "");
        std::string body = err + "\n\nlog: " + e["log"].get<std::string>();
        if (e.contains("log_tail")) body += "\n" + e["log_tail"].get<std::string>();
        cases += fmt::format(
            ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n"
            "    </testcase>\n",
            xml(firstLine(err)),
            e.value("gate_failed", false) ? "kiln.quality_gate" : "kiln.compile", xml(body));
        out += e["target"].get<std::string>() + ": failed: " + err + "\n";
      } else if (status == "skipped") {
        ++sk;
        cases += fmt::format(">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                             xml(firstLine(e.value("error", ""))));
        out += e["target"].get<std::string>() + ": skipped\n";
      } else {
        cases += "/>\n";
        out += describeOk(e);
      }
    }
    suites += fmt::format(
        "  <testsuite name=\"{}\" id=\"{}\" package=\"{}\" tests=\"{}\" failures=\"{}\" "
        "errors=\"0\" skipped=\"{}\" time=\"{:.3f}\" timestamp=\"{}\" hostname=\"{}\">\n"
        "    <properties>\n      <property name=\"kiln_version\" value=\"{}\"/>\n"
        "    </properties>\n{}    <system-out>{}</system-out>\n    <system-err/>\n"
        "  </testsuite>\n",
        xml(net), results[i]["index"].get<int>(), xml(manifest), end - i, f, sk, time,
        xml(report.value("started", "")),
        xml(join(report["hosts"].get<std::vector<std::string>>(), ",")),
        xml(report.value("kiln_version", "")), cases, xml(out));
    tests += int(end - i);
    failures += f;
    skipped += sk;
    total += time;
    i = end;
  }
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"kiln compile {}\" "
      "tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{:.3f}\">\n{}"
      "</testsuites>\n",
      xml(manifest), tests, failures, skipped, total, suites);
}

void writeReports(const std::string& dir, const Json& report) {
  const std::string json = jsonText(report, 2) + "\n", x = junitXml(report);
  files::writeFileAtomic(dir + "/report.json", std::vector<uint8_t>(json.begin(), json.end()));
  files::writeFileAtomic(dir + "/report.xml", std::vector<uint8_t>(x.begin(), x.end()));
}

namespace {

// The parts of a shard report the merge reads, checked so that a damaged or hand-edited file is
// named with what is wrong in it (not blamed on the manifest, not an internal error).
void checkShardReport(const Json& r, const std::string& path) {
  auto bad = [&](const std::string& what) {
    return Error(path + ": not a valid Kiln report: " + what);
  };
  if (!r.is_object() || r.value("format", "") != "kiln-report-1")
    throw Error(path + ": not a Kiln report (format kiln-report-1)");
  const Json& m = r.contains("manifest") ? r["manifest"] : Json();
  if (!m.is_object() || !m.contains("networks") || !m["networks"].is_array())
    throw bad("manifest.networks: expected a list of network names");
  for (const auto& n : m["networks"])
    if (!n.is_string()) throw bad("manifest.networks: expected a list of network names");
  if (!m.contains("name") || !m["name"].is_string()) throw bad("manifest.name: expected a string");
  for (const char* k : {"shards", "hosts"}) {
    if (!r.contains(k) || !r[k].is_array()) throw bad(std::string(k) + ": expected a list");
    for (const auto& v : r[k])
      if (!v.is_string()) throw bad(std::string(k) + ": expected a list of strings");
  }
  if (!r.contains("started") || !r["started"].is_string()) throw bad("started: expected a string");
  if (r.contains("wall_seconds") && !r["wall_seconds"].is_number())
    throw bad("wall_seconds: expected a number");
  if (!r.contains("results") || !r["results"].is_array())
    throw bad("results: expected a list, found " +
              std::string(r.contains("results") ? r["results"].type_name() : "nothing"));
  size_t k = 0;
  for (const auto& e : r["results"]) {
    const std::string at = "results[" + std::to_string(k++) + "]";
    if (!e.is_object()) throw bad(at + ": expected an object");
    for (const char* key : {"network", "target", "status", "log"})
      if (!e.contains(key) || !e[key].is_string())
        throw bad(at + "." + key + ": expected a string");
    if (!e.contains("index") || !e["index"].is_number_integer())
      throw bad(at + ".index: expected an integer");
    if (!e.contains("seconds") || !e["seconds"].is_number())
      throw bad(at + ".seconds: expected a number");
  }
}

// The same file given twice (under one path or two): its device and inode.
std::string fileIdentity(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return path;
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

}  // namespace

Json mergeReports(const std::vector<std::string>& paths) {
  if (paths.empty()) throw Error("give the shard reports to merge (report.json files)");
  Json merged;
  // Who has what, to name both files of a duplicate: a file, a shard, a (network, target).
  std::map<std::string, std::string> files, shards, results;
  std::set<std::string> hosts;
  for (const auto& path : paths) {
    const std::string id = fileIdentity(path);
    if (files.count(id))
      throw Error(path + ": this report is given twice (also as " + files[id] +
                  "); give each shard's report once");
    files[id] = path;
    Json r;
    try {
      const auto bytes = files::readFile(path);
      r = Json::parse(bytes.begin(), bytes.end());
    } catch (const std::exception& e) {
      throw Error(path + ": cannot read the report: " + e.what());
    }
    checkShardReport(r, path);
    if (merged.is_null()) {
      merged = r;
      merged["shards"] = Json::array();
      merged["results"] = Json::array();
      merged["wall_seconds"] = 0.0;
    } else if (r["manifest"]["networks"] != merged["manifest"]["networks"]) {
      throw Error(path + ": its manifest lists other networks than " + paths[0] +
                  "'s; merge the shards of one manifest");
    }
    for (const auto& s : r["shards"]) {
      const std::string shard = s.get<std::string>();
      if (shards.count(shard))
        throw Error(path + ": shard " + shard + " is in " + shards[shard] +
                    " too (a copy, or a run of the same shard twice); give each shard once");
      shards[shard] = path;
      merged["shards"].push_back(s);
    }
    for (const auto& h : r["hosts"]) hosts.insert(h.get<std::string>());
    if (r.value("started", "") < merged.value("started", "")) merged["started"] = r["started"];
    merged["wall_seconds"] =
        std::max(merged["wall_seconds"].get<double>(), r.value("wall_seconds", 0.0));
    for (const auto& e : r["results"]) {
      const std::string net = e["network"].get<std::string>();
      const std::string key = net + "\n" + e["target"].get<std::string>();
      if (results.count(key))
        throw Error(path + ": network '" + net + "' on " + e["target"].get<std::string>() +
                    " is in " + results[key] + " too; give each shard's report once");
      results[key] = path;
      merged["results"].push_back(e);
    }
  }
  merged["hosts"] = Json(std::vector<std::string>(hosts.begin(), hosts.end()));
  std::vector<Json> sorted(merged["results"].begin(), merged["results"].end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const Json& a, const Json& b) {
    return a["index"].get<int>() < b["index"].get<int>();
  });
  merged["results"] = Json(sorted);
  recount(merged, true);
  return merged;
}

std::string summaryLine(const Json& report) {
  const Json& s = report["summary"];
  std::string line = fmt::format(
      "{} result(s): {} ok, {} cached, {} failed, {} skipped", s["results"].get<int>(),
      s["ok"].get<int>(), s["cached"].get<int>(), s["failed"].get<int>(), s["skipped"].get<int>());
  if (s.value("gates_failed", 0) > 0)
    line += fmt::format(" ({} of them by a quality gate)", s["gates_failed"].get<int>());
  if (!s["missing"].empty())
    line += "; no result for " + join(s["missing"].get<std::vector<std::string>>(), ", ");
  return line;
}

bool reportPassed(const Json& report) {
  const Json& s = report["summary"];
  return s["failed"].get<int>() == 0 && s["skipped"].get<int>() == 0 && s["missing"].empty();
}

std::string utcNow() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

std::string hostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf[0] ? buf : "localhost";
}

}  // namespace kiln::batch
