// Reading a record from a JSON document that vmqd did not necessarily write
// (its state file, a migration document): field by field, each of exactly
// the expected type, remembering the first field that is missing or wrong.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace vmq::service {

// Whether a JSON value is exactly a T: no sign, fraction or boolean slips
// into a number, and the number fits. A json field must be an object.
template <typename T>
bool has_type(const nlohmann::json& v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v.is_boolean();
  } else if constexpr (std::is_same_v<T, std::string>) {
    return v.is_string();
  } else if constexpr (std::is_same_v<T, nlohmann::json>) {
    return v.is_object();
  } else {
    static_assert(std::is_unsigned_v<T>);
    return v.is_number_unsigned() && v.get<std::uint64_t>() <= std::numeric_limits<T>::max();
  }
}

class RecordReader {
 public:
  // `where` names the record in errors, e.g. "queue #2".
  RecordReader(const nlohmann::json& j, std::string where) : j_(j), where_(std::move(where)) {
    if (!j_.is_object()) error_ = Error{Errc::invalid_argument, fmt::format("{}: not an object", where_)};
  }

  template <typename T>
  void read(const char* key, T& out) {
    if (error_) return;
    auto it = j_.find(key);
    if (it == j_.end()) {
      error_ = Error{Errc::invalid_argument, fmt::format("{}: '{}' is missing", where_, key)};
      return;
    }
    if (!has_type<T>(*it)) {
      error_ = Error{Errc::invalid_argument, fmt::format("{}: '{}' has the wrong type", where_, key)};
      return;
    }
    out = it->get<T>();
  }
  const std::optional<Error>& error() const { return error_; }

 private:
  const nlohmann::json& j_;
  std::string where_;
  std::optional<Error> error_;
};

}  // namespace vmq::service
