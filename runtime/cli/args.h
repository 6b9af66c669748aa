// A tiny command-line option parser for kilnrt (the runtime depends on the standard library
// only). Options are `--name VALUE`, `--name=VALUE`, flags `--name`, and multi-value options
// (`--input-files A B C`, every argument up to the next one starting with '-'). Anything else is
// a positional argument. Problems throw UsageError (kilnrt exits with 2).
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace kiln::rt::cli {

/// A command-line mistake: kilnrt prints it with a pointer to --help and exits with 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ArgParser {
 public:
  ArgParser(std::string command, std::string synopsis, std::string description)
      : command_(std::move(command)),
        synopsis_(std::move(synopsis)),
        description_(std::move(description)) {}

  /// A positional argument; `multiple` takes every remaining positional.
  void positional(const std::string& name, const std::string& help, bool required = true,
                  bool multiple = false) {
    positionals_.push_back({name, help, required, multiple});
  }
  void flag(const std::string& name, const std::string& help) {
    add({name, "", help, Kind::Flag, ""});
  }
  void value(const std::string& name, const std::string& metavar, const std::string& help,
             const std::string& def = "") {
    add({name, metavar, help, Kind::Value, def});
  }
  void multi(const std::string& name, const std::string& metavar, const std::string& help) {
    add({name, metavar, help, Kind::Multi, ""});
  }
  /// Text after the option list in --help (examples).
  void epilog(const std::string& text) { epilog_ = text; }

  /// Parses argv (without the program and command names). Returns false when --help was given
  /// (the help text has then been printed).
  bool parse(const std::vector<std::string>& args);

  bool has(const std::string& name) const { return values_.count(name) != 0; }
  std::string get(const std::string& name) const;
  std::vector<std::string> getAll(const std::string& name) const;
  /// An integer option within [lo, hi] (UsageError otherwise); `def` when absent.
  int64_t getInt(const std::string& name, int64_t def, int64_t lo, int64_t hi) const;
  /// The value of a choice option; UsageError unless it is one of `choices`.
  std::string getChoice(const std::string& name, const std::vector<std::string>& choices) const;
  const std::vector<std::string>& positionals(const std::string& name) const;
  std::string help() const;
  const std::string& command() const { return command_; }

 private:
  enum class Kind { Flag, Value, Multi };
  struct Option {
    std::string name, metavar, help;
    Kind kind;
    std::string def;
  };
  struct Positional {
    std::string name, help;
    bool required, multiple;
  };
  void add(Option o) { options_.push_back(std::move(o)); }
  const Option* find(const std::string& name) const;
  [[noreturn]] void fail(const std::string& what) const;

  std::string command_, synopsis_, description_, epilog_;
  std::vector<Option> options_;
  std::vector<Positional> positionals_;
  std::map<std::string, std::vector<std::string>> values_;
  std::map<std::string, std::vector<std::string>> posValues_;
};

}  // namespace kiln::rt::cli
