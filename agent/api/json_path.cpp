#include "api/json_path.h"

#include <fmt/format.h>

namespace vmq::api {

void Path::append_to(std::string& out) const {
  if (!parent_) return;
  parent_->append_to(out);
  if (is_index_) {
    out += fmt::format("[{}]", index_);
  } else {
    if (!out.empty()) out += '.';
    out += key_;
  }
}

std::string Path::to_string() const {
  std::string out;
  append_to(out);
  return out.empty() ? "the document" : out;
}

std::string Path::name(Wording wording) const {
  if (wording == Wording::document || is_index_) return to_string();
  if (!parent_) return "the parameters";
  return fmt::format("parameter '{}'", key_);
}

Error missing_value(const Path& path, Wording wording) {
  return Error{Errc::invalid_argument,
               fmt::format("{} {}", path.name(wording), wording == Wording::request ? "is required" : "is missing")};
}

Error wrong_type(const Path& path, Wording wording, std::string_view expected) {
  return Error{Errc::invalid_argument, fmt::format("{} must be {}", path.name(wording), expected)};
}

Error invalid_value(const Path& path, Wording wording, std::string_view why) {
  if (wording == Wording::request) return Error{Errc::invalid_argument, std::string(why)};
  return Error{Errc::invalid_argument, fmt::format("{}: {}", path.to_string(), why)};
}

Error unknown_parameter(std::string_view key) {
  return Error{Errc::invalid_argument, fmt::format("unknown parameter '{}'", key)};
}

}  // namespace vmq::api
