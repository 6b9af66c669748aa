// kiln check-script PATH...: validates model scripts without a network, for CI. Each file is
// parsed (grammar), validated against the command table (commands, features, keys, values) and
// read by the resource planner (kiln compiler's options: fps, utilizations, context switching);
// directories are walked for *.alls. Diagnostics are `file:line:col: error|warning: ...`; a
// summary counts the files with errors and the commands Kiln parses but does not apply.
// Exit status: 0 without errors, 1 with errors (with --strict, not-applied commands too), 2 for
// usage mistakes.
#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "alls/alls.h"
#include "compiler/archive/json_text.h"
#include "compiler/cli/commands.h"
#include "compiler/hwarch/hw_arch.h"
#include "compiler/hwarch/resource_plan.h"
#include "compiler/optimize/script_apply.h"

namespace kiln::cli {

namespace {

namespace fs = std::filesystem;

struct CheckArgs {
  std::vector<std::string> paths;
  std::string hwArch;
  std::string stage = "optimize";
  bool json = false;
  bool strict = false;
  bool quiet = false;
};

struct FileResult {
  std::string file;
  std::vector<alls::Diagnostic> diags;
  size_t errors = 0, warnings = 0, notes = 0;
  std::set<std::string> notApplied;  // labels of what Kiln does not apply
};

// The files to check: files as given, directories walked for *.alls (sorted, so the order and
// the report are the same on every machine).
std::vector<std::string> scriptFiles(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (!fs::is_directory(p, ec)) {
      files.push_back(p);  // a missing file is reported by the parser, naming it
      continue;
    }
    std::vector<std::string> found;
    for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::end(it);
         it.increment(ec))
      if (it->is_regular_file() && it->path().extension() == ".alls")
        found.push_back(it->path().string());
    if (ec) throw Error("cannot walk the directory " + p + ": " + ec.message());
    if (found.empty()) throw Error("no .alls file under the directory " + p);
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

alls::Diagnostic scriptErrorDiag(const alls::ScriptError& e, const std::string& lineText) {
  alls::Diagnostic d;
  d.severity = alls::Diagnostic::Error;
  d.pos = e.pos();
  d.message = e.detail();
  d.sourceLine = lineText;
  return d;
}

// A plan note "file:line: resources_param key max_apu_utilization is parsed, not applied (...)"
// as a warning at that line; `label` is the text before " is parsed" for not-applied notes.
alls::Diagnostic planNote(const std::string& file, const std::string& note, bool notApplied) {
  alls::Diagnostic d;
  d.severity = alls::Diagnostic::Warning;
  d.pos = {file, 0, 0};
  std::string rest = note;
  const std::string prefix = file + ":";
  if (note.rfind(prefix, 0) == 0) {
    const size_t colon = note.find(": ", prefix.size());
    if (colon != std::string::npos) {
      d.pos.line = std::atoi(note.substr(prefix.size(), colon - prefix.size()).c_str());
      d.pos.col = 1;
      rest = note.substr(colon + 2);
    }
  }
  d.message = rest;
  d.notApplied = notApplied;
  if (notApplied) d.label = rest.substr(0, rest.find(" is parsed"));
  return d;
}

FileResult checkFile(const std::string& file, alls::Stage stage) {
  FileResult r;
  r.file = file;
  alls::Script script;
  try {
    script = alls::parseScriptFile(file);
  } catch (const alls::ScriptError& e) {
    std::string line;
    const std::string what = e.what();
    // The source line is the second line of the formatted message, when there is one.
    const size_t nl = what.find('\n');
    if (nl != std::string::npos) line = what.substr(nl + 1, what.find('\n', nl + 1) - nl - 1);
    r.diags.push_back(scriptErrorDiag(e, line));
    r.errors = 1;
    return r;
  }
  r.diags = alls::validateScript(script, stage);
  if (!alls::hasErrors(r.diags)) {
    // What kiln optimize reports of the statements the validator counts as applied: keys and
    // features its handlers do not act on.
    if (stage == alls::Stage::Optimize)
      for (alls::Diagnostic& d : optimize::scriptNotApplied(script)) r.diags.push_back(d);
    // What it accepts with a stated meaning (notes, not warnings).
    if (stage == alls::Stage::Optimize)
      for (alls::Diagnostic& d : optimize::scriptAccepted(script)) r.diags.push_back(d);
    // The resource planner's reading of the script, as kiln compiler does it.
    try {
      const hwarch::PlanOptions o = hwarch::planOptionsFromScript(script);
      for (const std::string& n : o.notApplied) r.diags.push_back(planNote(file, n, true));
      for (const std::string& n : o.adjusted) r.diags.push_back(planNote(file, n, false));
    } catch (const alls::ScriptError& e) {
      std::string line;
      for (const alls::Statement& st : script.statements)
        if (line.empty()) line = st.lineText(e.pos().line);
      r.diags.push_back(scriptErrorDiag(e, line));
    }
  }
  for (const alls::Diagnostic& d : r.diags) {
    if (d.severity == alls::Diagnostic::Error) ++r.errors;
    if (d.severity == alls::Diagnostic::Warning) ++r.warnings;
    if (d.severity == alls::Diagnostic::Note) ++r.notes;
    if (d.notApplied) r.notApplied.insert(d.label);
  }
  return r;
}

// "post_quantization_optimization(finetune) key layers" -> counted under its command(feature).
std::string commandOf(const std::string& label) {
  return label.substr(0, label.find(" key "));
}

nlohmann::ordered_json diagJson(const alls::Diagnostic& d) {
  nlohmann::ordered_json j = {
      {"severity", d.severity == alls::Diagnostic::Error
                       ? "error"
                       : (d.severity == alls::Diagnostic::Note ? "note" : "warning")},
      {"line", d.pos.line},
      {"col", d.pos.col},
      {"message", d.message}};
  if (d.notApplied) j["not_applied"] = d.label;
  return j;
}

int run(const CheckArgs& a) {
  const alls::Stage stage = a.stage == "compile" ? alls::Stage::Compile : alls::Stage::Optimize;
  const std::vector<std::string> files = scriptFiles(a.paths);
  std::vector<FileResult> results;
  for (const std::string& f : files) results.push_back(checkFile(f, stage));

  size_t withErrors = 0, withNotApplied = 0, errors = 0, warnings = 0, notes = 0;
  std::map<std::string, size_t> byCommand;  // command(feature) -> files
  for (const FileResult& r : results) {
    withErrors += r.errors ? 1 : 0;
    withNotApplied += r.notApplied.empty() ? 0 : 1;
    errors += r.errors;
    warnings += r.warnings;
    notes += r.notes;
    std::set<std::string> commands;
    for (const std::string& l : r.notApplied) commands.insert(commandOf(l));
    for (const std::string& c : commands) ++byCommand[c];
  }
  const bool failed = withErrors > 0 || (a.strict && withNotApplied > 0);

  if (a.json) {
    nlohmann::ordered_json jf = nlohmann::ordered_json::array();
    for (const FileResult& r : results) {
      nlohmann::ordered_json d = nlohmann::ordered_json::array();
      for (const alls::Diagnostic& x : r.diags) d.push_back(diagJson(x));
      jf.push_back({{"file", r.file},
                    {"errors", r.errors},
                    {"warnings", r.warnings},
                    {"notes", r.notes},
                    {"diagnostics", d}});
    }
    nlohmann::ordered_json na = nlohmann::ordered_json::object();
    for (const auto& [c, n] : byCommand) na[c] = n;
    nlohmann::ordered_json j = {{"hw_arch", a.hwArch},
                                {"stage", a.stage},
                                {"files", jf},
                                {"summary",
                                 {{"files", results.size()},
                                  {"files_with_errors", withErrors},
                                  {"files_with_not_applied", withNotApplied},
                                  {"not_applied_files_by_command", na}}},
                                {"passed", !failed}};
    fmt::print("{}\n", jsonText(j, 2));
    return failed ? 1 : 0;
  }

  for (const FileResult& r : results)
    for (const alls::Diagnostic& d : r.diags) {
      if (a.quiet && d.severity != alls::Diagnostic::Error && !(a.strict && d.notApplied)) continue;
      alls::Diagnostic shown = d;
      if (a.strict && d.notApplied) shown.severity = alls::Diagnostic::Error;
      fmt::print(stderr, "{}\n", alls::formatDiagnostic(shown));
    }
  fmt::print(
      "checked {} script(s){}: {} with errors ({} errors), {} with commands Kiln parses but "
      "does not apply ({} warnings in all; {} notes on what Kiln accepts with a meaning)\n",
      results.size(), a.hwArch.empty() ? "" : " for " + a.hwArch, withErrors, errors,
      withNotApplied, warnings, notes);
  if (!byCommand.empty() && results.size() > 1) {
    std::vector<std::pair<size_t, std::string>> rows;
    for (const auto& [c, n] : byCommand) rows.push_back({n, c});
    std::stable_sort(rows.begin(), rows.end(),
                     [](const auto& x, const auto& y) { return x.first > y.first; });
    fmt::print("not applied, by command (files):\n");
    for (const auto& [n, c] : rows) fmt::print("  {:>5}  {}\n", n, c);
  }
  return failed ? 1 : 0;
}

}  // namespace

void addCheckScriptCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "check-script",
      "Validate model scripts (.alls) without a network: grammar, command table, keys, values "
      "and the resource planner's options. Exit status 0 = no errors, 1 = errors (with --strict "
      "also commands Kiln does not apply), 2 = usage. For CI.");
  auto args = std::make_shared<CheckArgs>();
  cmd->add_option("scripts", args->paths,
                  "Model scripts, or directories walked for *.alls (in sorted order)")
      ->required();
  cmd->add_option("--hw-arch", args->hwArch,
                  "Target the script is meant for (checked to be a known one: hailo8, hailo8l, "
                  "hailo15h, hailo15m, hailo10h)")
      ->check(CLI::Validator(
          [](std::string& name) -> std::string {
            try {
              hwarch::findArch(name);
              return {};
            } catch (const Error& e) {
              return e.what();
            }
          },
          "ARCH"));
  cmd->add_option("--stage", args->stage,
                  "Which tool reads the script: optimize (kiln optimize --model-script, the "
                  "default) or compile (kiln compiler --model-script: only resource commands act)")
      ->check(CLI::IsMember({"optimize", "compile"}));
  cmd->add_flag("--json", args->json, "Print the diagnostics and the summary as JSON on stdout");
  cmd->add_flag("--strict", args->strict,
                "Commands and keys Kiln parses but does not apply are errors (as kiln optimize "
                "--strict)");
  cmd->add_flag("--quiet", args->quiet, "Print only errors and the summary");
  cmd->callback([args]() {
    const int rc = run(*args);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace kiln::cli
