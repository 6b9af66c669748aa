#include "common/json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace kiln {

namespace {

// The shortest "%.*g" text that reads back as the same double.
std::string numberText(double v) {
  if (!std::isfinite(v)) return "null";  // as nlohmann does
  char buf[40];
  for (int p = 1; p <= 17; ++p) {
    std::snprintf(buf, sizeof buf, "%.*g", p, v);
    const bool plainRange = std::fabs(v) >= 1e-4 && std::fabs(v) < 1e15;
    if (std::strtod(buf, nullptr) == v && !(plainRange && std::strchr(buf, 'e'))) break;
  }
  std::string s = buf;
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

}  // namespace

std::string jsonQuote(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

std::string Json::dump(int indent) const {
  std::string out;
  write(out, indent, 0);
  return out;
}

void Json::write(std::string& out, int indent, int level) const {
  switch (kind_) {
    case Kind::Null:
      out += "null";
      return;
    case Kind::Bool:
      out += int_ ? "true" : "false";
      return;
    case Kind::Int:
      out += std::to_string(int_);
      return;
    case Kind::Double:
      out += numberText(double_);
      return;
    case Kind::String:
      out += jsonQuote(string_);
      return;
    case Kind::Array:
    case Kind::Object:
      break;
  }
  const bool obj = kind_ == Kind::Object;
  if (items_.empty()) {
    out += obj ? "{}" : "[]";
    return;
  }
  out += obj ? "{" : "[";
  const std::string pad = indent >= 0 ? std::string(size_t(indent) * size_t(level + 1), ' ') : "";
  for (size_t i = 0; i < items_.size(); ++i) {
    out += i ? "," : "";
    if (indent >= 0) out += "\n" + pad;
    if (obj) out += jsonQuote(items_[i].first) + (indent >= 0 ? ": " : ":");
    items_[i].second.write(out, indent, level + 1);
  }
  if (indent >= 0) out += "\n" + std::string(size_t(indent) * size_t(level), ' ');
  out += obj ? "}" : "]";
}

}  // namespace kiln
