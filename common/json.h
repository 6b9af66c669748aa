// A minimal JSON value for Kiln's standard-library-only code: kilnrt's --json output and the
// outputs.json of `kiln infer` / `kilnrt infer` (common/infer_outputs.h). Objects keep insertion
// order; dump(2) formats like nlohmann::json's dump(2), the compiler's JSON library.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace kiln {

class Json {
 public:
  enum class Kind { Null, Bool, Int, Double, String, Array, Object };

  Json() = default;
  Json(bool b) : kind_(Kind::Bool), int_(b) {}
  Json(int v) : kind_(Kind::Int), int_(v) {}
  Json(long v) : kind_(Kind::Int), int_(v) {}
  Json(long long v) : kind_(Kind::Int), int_(v) {}
  Json(unsigned v) : kind_(Kind::Int), int_(v) {}
  Json(unsigned long v) : kind_(Kind::Int), int_(int64_t(v)) {}
  Json(unsigned long long v) : kind_(Kind::Int), int_(int64_t(v)) {}
  Json(double v) : kind_(Kind::Double), double_(v) {}
  Json(const char* s) : kind_(Kind::String), string_(s) {}
  Json(std::string s) : kind_(Kind::String), string_(std::move(s)) {}
  Json(const std::vector<int64_t>& v) : kind_(Kind::Array) {
    for (int64_t x : v) items_.emplace_back("", Json(static_cast<long long>(x)));
  }

  static Json array() {
    Json j;
    j.kind_ = Kind::Array;
    return j;
  }
  static Json object() {
    Json j;
    j.kind_ = Kind::Object;
    return j;
  }

  /// Appends to an array.
  Json& push(Json v) {
    items_.emplace_back("", std::move(v));
    return *this;
  }
  /// Sets a key of an object (appended; keys are not checked for duplicates).
  Json& set(const std::string& key, Json v) {
    items_.emplace_back(key, std::move(v));
    return *this;
  }

  /// Serializes; indent < 0 gives one line.
  std::string dump(int indent = 2) const;

 private:
  void write(std::string& out, int indent, int level) const;
  Kind kind_ = Kind::Null;
  int64_t int_ = 0;
  double double_ = 0;
  std::string string_;
  std::vector<std::pair<std::string, Json>> items_;
};

/// A JSON string literal with nlohmann's escaping (UTF-8 passes through).
std::string jsonQuote(const std::string& s);

}  // namespace kiln
