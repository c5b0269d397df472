#include "service/params.h"

#include <algorithm>

#include <fmt/format.h>

namespace vmq::service {
namespace {

Error bad_type(const char* key, std::string_view expected) {
  return Error{Errc::invalid_argument, fmt::format("parameter '{}' must be {}", key, expected)};
}

}  // namespace

Result<void> Params::allow_only(std::initializer_list<std::string_view> keys) const {
  for (const auto& [key, value] : j_.items()) {
    if (std::ranges::find(keys, key) == keys.end())
      return fail(Errc::invalid_argument, fmt::format("unknown parameter '{}'", key));
  }
  return {};
}

const nlohmann::json* Params::find(const char* key) const {
  auto it = j_.find(key);
  return it == j_.end() || it->is_null() ? nullptr : &*it;
}

Result<std::string> Params::string(const char* key) const {
  const auto* v = find(key);
  if (!v) return fail(Errc::invalid_argument, fmt::format("parameter '{}' is required", key));
  if (!v->is_string()) return std::unexpected(bad_type(key, "a string"));
  return v->get<std::string>();
}

Result<std::optional<std::string>> Params::optional_string(const char* key) const {
  const auto* v = find(key);
  if (!v) return std::optional<std::string>{};
  if (!v->is_string()) return std::unexpected(bad_type(key, "a string"));
  return std::optional(v->get<std::string>());
}

Result<std::optional<std::uint64_t>> Params::optional_uint(const char* key, std::uint64_t max) const {
  const auto* v = find(key);
  if (!v) return std::optional<std::uint64_t>{};
  const bool non_negative = v->is_number_unsigned() || (v->is_number_integer() && v->get<std::int64_t>() >= 0);
  if (!non_negative || v->get<std::uint64_t>() > max)
    return std::unexpected(bad_type(key, fmt::format("an integer from 0 to {}", max)));
  return std::optional(v->get<std::uint64_t>());
}

Result<std::optional<bool>> Params::optional_bool(const char* key) const {
  const auto* v = find(key);
  if (!v) return std::optional<bool>{};
  if (!v->is_boolean()) return std::unexpected(bad_type(key, "true or false"));
  return std::optional(v->get<bool>());
}

Result<FilterMatch> filter_match_from(const nlohmann::json& j, std::string_view where) {
  if (!j.is_object()) return fail(Errc::invalid_argument, fmt::format("{} must be an object", where));
  const Params p(j);
  if (auto ok = p.allow_only({"mac", "vlan"}); !ok) return std::unexpected(ok.error());
  auto mac_text = p.string("mac");
  if (!mac_text) return std::unexpected(mac_text.error());
  auto mac = MacAddress::parse(*mac_text);
  if (!mac) return std::unexpected(mac.error());
  std::optional<long> vlan;
  if (const auto* v = p.find("vlan")) {
    if (!v->is_number_integer())
      return fail(Errc::invalid_argument, "parameter 'vlan' must be an integer (null: untagged)");
    // Out-of-range values are named as given, not as what a narrowing made of them.
    if (v->is_number_unsigned() && v->get<std::uint64_t>() > VMQ_VLAN_MAX)
      return fail(Errc::invalid_argument, fmt::format("VLAN {} out of range {}..{} (use --untagged for untagged and "
                                                      "priority-tagged frames)",
                                                      v->get<std::uint64_t>(), VMQ_VLAN_MIN, VMQ_VLAN_MAX));
    vlan = v->get<long>();
  }
  return FilterMatch::make(*mac, vlan);
}

}  // namespace vmq::service
