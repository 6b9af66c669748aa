#include "compiler/cli/options.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common/strings.h"

namespace kiln::cli {

namespace {

// The visible subcommands of `app` (the internal ones have no group).
std::vector<std::string> commandNames(CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* s : app.get_subcommands([](CLI::App*) { return true; }))
    names.push_back(s->get_name());
  return names;
}

CLI::App* subcommand(CLI::App& app, const std::string& name) {
  for (CLI::App* s : app.get_subcommands([](CLI::App*) { return true; }))
    if (s->get_name() == name) return s;
  return nullptr;
}

std::string didYouMean(const std::vector<std::string>& names, const std::string& query) {
  const auto close = closestNames(names, query, 1, true);
  return close.empty() ? "" : "; did you mean " + close[0] + "?";
}

std::string commandPath(const CLI::App* app) {
  std::string path;
  for (const CLI::App* a = app; a; a = a->get_parent())
    path = a->get_name() + (path.empty() ? "" : " " + path);
  return path;
}

}  // namespace

void printNote(const std::string& message) {
  std::fprintf(stderr, "kiln: note: %s\n", message.c_str());
}

CLI::Validator nonEmptyPath() {
  return CLI::Validator(
      [](std::string& v) {
        return v.empty() ? std::string(
                               "an empty path (\"\") would put the files in /; give a "
                               "directory (. for the current one)")
                         : std::string();
      },
      "", "NONEMPTY");
}

CLI::Validator intIn(long long lo, long long hi) {
  return CLI::Validator(
      [lo, hi](std::string& v) {
        const std::string want =
            "expected an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
        char* end = nullptr;
        errno = 0;
        const long long x = std::strtoll(v.c_str(), &end, 10);
        if (v.empty() || *end != '\0') return "'" + v + "' is not an integer; " + want;
        if (errno == ERANGE || x < lo || x > hi) return v + " is out of range; " + want;
        return std::string();
      },
      "INT in [" + std::to_string(lo) + " - " + std::to_string(hi) + "]", "INTRANGE");
}

std::string unknownCommand(CLI::App& app, int argc, char** argv) {
  CLI::App* cur = &app;
  for (int i = 1; i < argc; ++i) {
    const std::string tok = argv[i];
    if (tok.empty() || tok[0] == '-') return "";  // options: CLI11 and unknownOption judge them
    const std::vector<std::string> names = commandNames(*cur);
    if (names.empty()) return "";
    if (CLI::App* s = subcommand(*cur, tok)) {
      cur = s;
      continue;
    }
    const std::string where = cur == &app ? "" : commandPath(cur).substr(app.get_name().size() + 1);
    return "unknown command '" + (where.empty() ? "" : where + " ") + tok + "' (" +
           (where.empty() ? "" : where + " ") + "commands: " + join(names, ", ") +
           didYouMean(names, tok) + "; see '" + commandPath(cur) + " --help')";
  }
  return "";
}

std::string unknownOption(CLI::App& app, int argc, char** argv) {
  // The command that was chosen: the deepest parsed subcommand.
  CLI::App* cur = &app;
  for (bool deeper = true; deeper;) {
    deeper = false;
    for (CLI::App* s : cur->get_subcommands())
      if (s->parsed()) {
        cur = s;
        deeper = true;
        break;
      }
  }
  std::vector<std::string> names;
  for (const CLI::App* a = cur; a; a = a->get_parent())
    for (const CLI::Option* o : a->get_options())
      for (const std::string& n : o->get_lnames()) names.push_back("--" + n);
  for (int i = 1; i < argc; ++i) {
    std::string tok = argv[i];
    if (tok.size() < 3 || tok.compare(0, 2, "--") != 0) continue;
    tok = tok.substr(0, tok.find('='));
    bool known = false;
    for (const CLI::App* a = cur; a && !known; a = a->get_parent())
      known = a->get_option_no_throw(tok) != nullptr;
    // An option of another command (kiln optimize --hw-arch): still unknown here.
    if (!known)
      return "unknown option " + tok + " for '" + commandPath(cur) + "'" + didYouMean(names, tok) +
             "; see '" + commandPath(cur) + " --help'";
  }
  return "";
}

}  // namespace kiln::cli
