#include "format.h"

#include <ctime>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace vmq::cli {

std::string vlan_text(const std::optional<api::FilterVlan>& vlan) {
  return vlan ? std::to_string(vlan->id) : "untagged";
}

std::string match_text(const api::FilterRule& rule) {
  return fmt::format("MAC {} {}", rule.mac.to_string(), rule.vlan ? "VLAN " + vlan_text(rule.vlan) : "untagged");
}

std::string queue_label(const api::QueueRef& queue) { return fmt::format("{} (id {})", queue.name, queue.id); }

std::string queue_label(const api::Queue& queue) { return queue_label(api::QueueRef{queue.id, queue.settings.name}); }

std::string yes_no(bool value) { return value ? "yes" : "no"; }

std::string list_text(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string cpu_list_text(const std::vector<std::uint32_t>& cpus) {
  std::string out;
  std::size_t i = 0;
  while (i < cpus.size()) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += j == i ? std::to_string(cpus[i]) : fmt::format("{}-{}", cpus[i], cpus[j]);
    i = j + 1;
  }
  return out;
}

std::string utc_time_text(std::uint64_t unix_ms) {
  const auto seconds = static_cast<std::time_t>(unix_ms / 1000);
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(seconds));
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
