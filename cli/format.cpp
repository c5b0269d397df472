#include "format.h"

#include <fmt/format.h>

namespace vmq::cli {

const json& member(const json& object, std::initializer_list<std::string_view> path) {
  static const json null_value;
  const json* current = &object;
  for (std::string_view key : path) {
    if (!current->is_object()) return null_value;
    auto it = current->find(key);
    if (it == current->end()) return null_value;
    current = &*it;
  }
  return *current;
}

std::string text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
  if (value.is_number()) return value.dump();
  return "";
}

std::uint64_t count(const json& value) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (!value.is_number_integer()) return 0;
  const auto signed_value = value.get<std::int64_t>();
  return signed_value < 0 ? 0 : static_cast<std::uint64_t>(signed_value);
}

std::uint64_t dropped_total(const json& counters) {
  return count(member(counters, {"dropped", "port_full"})) + count(member(counters, {"dropped", "quota"})) +
         count(member(counters, {"dropped", "port_refused"})) + count(member(counters, {"xsk", "rx_dropped"})) + count(member(counters, {"xsk", "rx_ring_full"}));
}

std::string vlan_text(const json& vlan) { return vlan.is_null() ? "untagged" : text(vlan); }

std::string queue_label(const json& queue) {
  return fmt::format("{} (id {})", text(member(queue, {"name"})), text(member(queue, {"id"})));
}

std::string list_text(const json& array) {
  std::string out;
  if (!array.is_array()) return out;
  for (const auto& item : array) out += (out.empty() ? "" : ", ") + text(item);
  return out;
}

std::string cpu_list_text(const json& cpus) {
  std::string out;
  if (!cpus.is_array()) return out;
  std::size_t i = 0;
  while (i < cpus.size()) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && count(cpus[j + 1]) == count(cpus[j]) + 1) ++j;
    if (!out.empty()) out += ",";
    out += j == i ? text(cpus[i]) : fmt::format("{}-{}", text(cpus[i]), text(cpus[j]));
    i = j + 1;
  }
  return out;
}

std::string uptime_text(std::int64_t seconds) {
  const std::int64_t days = seconds / 86400, hours = seconds / 3600 % 24, minutes = seconds / 60 % 60,
                     secs = seconds % 60;
  if (days > 0) return fmt::format("{}d {}h {}m", days, hours, minutes);
  if (hours > 0) return fmt::format("{}h {}m", hours, minutes);
  if (minutes > 0) return fmt::format("{}m {}s", minutes, secs);
  return fmt::format("{}s", secs);
}

namespace {

// Three significant digits, without switching to exponents.
std::string three_digits(double value) {
  if (value < 10) return fmt::format("{:.2f}", value);
  if (value < 100) return fmt::format("{:.1f}", value);
  return fmt::format("{:.0f}", value);
}

}  // namespace

std::string duration_text(std::uint64_t microseconds) {
  const double us = static_cast<double>(microseconds);
  if (microseconds < 1000) return fmt::format("{} us", microseconds);
  if (microseconds < 1000000) return three_digits(us / 1e3) + " ms";
  return three_digits(us / 1e6) + " s";
}

std::string rate_text(std::optional<double> per_second) {
  if (!per_second) return "-";
  if (*per_second < 10) return fmt::format("{:.1f}", *per_second);
  return fmt::format("{:.0f}", *per_second);
}

}  // namespace vmq::cli
