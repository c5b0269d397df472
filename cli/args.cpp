#include "args.h"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "base/filter_rules.h"

namespace vmq::cli {
namespace {

std::unexpected<Error> invalid(std::string_view option, std::string_view message) {
  return fail(Errc::invalid_argument, fmt::format("{}: {}", option, message));
}

// A signed number, so that "-1" gets the range message rather than "not a number".
std::optional<long> to_long(std::string_view text) {
  long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

Result<std::uint64_t> parse_number(std::string_view option, std::string_view text, std::uint64_t max) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || (ec != std::errc{} && ec != std::errc::result_out_of_range) || end != text.data() + text.size())
    return invalid(option, fmt::format("'{}' is not a number", text));
  if (ec == std::errc::result_out_of_range || value > max)
    return invalid(option, fmt::format("{} is out of range 0..{}", text, max));
  return value;
}

Result<MacAddress> parse_mac(std::string_view option, std::string_view text) {
  auto mac = MacAddress::parse(text);
  if (!mac) return invalid(option, mac.error().message);
  return mac;
}

Result<api::FilterRule> parse_filter(std::string_view mac_text, const std::optional<std::string>& vlan_text,
                                     bool untagged) {
  if (vlan_text && untagged)
    return fail(Errc::invalid_argument, "--vlan and --untagged exclude each other: give one of them");
  auto mac = parse_mac("--mac", mac_text);
  if (!mac) return std::unexpected(mac.error());
  std::optional<long> vlan;
  if (vlan_text) {
    vlan = to_long(*vlan_text);
    if (!vlan) return invalid("--vlan", fmt::format("'{}' is not a VLAN id (1..4094)", *vlan_text));
  }
  // Each option checked on its own, so an error names the option it is about.
  if (auto ok = check_filter_mac(*mac); !ok) return invalid("--mac", ok.error().message);
  if (!vlan) return api::FilterRule{*mac, std::nullopt};
  auto id = check_filter_vlan(*vlan);
  if (!id) return invalid("--vlan", id.error().message);
  return api::FilterRule{*mac, api::FilterVlan{*id}};
}

Result<std::uint16_t> parse_frame_vlan(std::string_view option, std::string_view text) {
  auto vlan = parse_number(option, text, kFrameVlanMax);
  if (!vlan) return invalid(option, fmt::format("'{}' is not a VLAN id (0..4095)", text));
  return static_cast<std::uint16_t>(*vlan);
}

Result<VlanMode> parse_vlan_mode_option(std::string_view text) {
  auto mode = parse_vlan_mode(text);
  if (!mode) return invalid("--vlan-mode", mode.error().message);
  return mode;
}

Result<double> parse_interval(std::string_view text) {
  double seconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds, std::chars_format::fixed);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(seconds))
    return invalid("--watch", fmt::format("'{}' is not a number of seconds", text));
  if (seconds < 0.1 || seconds > 3600)
    return invalid("--watch", fmt::format("{} s is out of range 0.1..3600", text));
  return seconds;
}

Result<StatsArgs> resolve_stats_args(std::optional<std::string> queue, const std::optional<std::string>& watch) {
  StatsArgs args{std::move(queue), std::nullopt};
  if (!watch) return args;
  if (watch->empty()) {
    args.interval = 1.0;
    return args;
  }
  auto interval = parse_interval(*watch);
  if (!interval && !args.queue && !to_long(*watch)) {
    args.queue = *watch;
    args.interval = 1.0;
    return args;
  }
  if (!interval) return std::unexpected(interval.error());
  args.interval = *interval;
  return args;
}

}  // namespace vmq::cli
