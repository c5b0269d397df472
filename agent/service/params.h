// Reads a request's parameters, refusing unknown keys and wrong types with
// the parameter's name.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/filter.h"

namespace vmq::service {

class Params {
 public:
  explicit Params(const nlohmann::json& j) : j_(j) {}

  Result<void> allow_only(std::initializer_list<std::string_view> keys) const;
  Result<std::string> string(const char* key) const;
  Result<std::optional<std::string>> optional_string(const char* key) const;
  Result<std::optional<std::uint64_t>> optional_uint(const char* key, std::uint64_t max) const;
  Result<std::optional<bool>> optional_bool(const char* key) const;
  const nlohmann::json* find(const char* key) const;

 private:
  const nlohmann::json& j_;
};

// {"mac": "52:54:00:aa:bb:cc", "vlan": 100} or "vlan": null / absent for
// untagged-or-zero.
Result<FilterMatch> filter_match_from(const nlohmann::json& j, std::string_view where);

}  // namespace vmq::service
