// What counters moved by between two snapshots: `after - before` for every
// unsigned number, recursively through objects; anything else as `after` has it.
#pragma once

#include <nlohmann/json.hpp>

namespace vmq::bench {

inline nlohmann::json counter_difference(const nlohmann::json& after, const nlohmann::json& before) {
  if (after.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, value] : after.items())
      out[key] = counter_difference(value, before.value(key, nlohmann::json()));
    return out;
  }
  if (after.is_number_unsigned() && before.is_number_unsigned())
    return after.get<std::uint64_t>() - before.get<std::uint64_t>();
  return after;
}

}  // namespace vmq::bench
