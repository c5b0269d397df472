// Checks of command-line values, made before anything is sent to vmqd so
// that a typo is a usage error (exit 2) with a message naming the option.
// Every error is Errc::invalid_argument, its message starting "--option: ".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/records.h"
#include "base/error.h"
#include "base/mac_address.h"
#include "base/vlan_mode.h"

namespace vmq::cli {

// An unsigned decimal number from 0 to max.
Result<std::uint64_t> parse_number(std::string_view option, std::string_view text, std::uint64_t max);

// Any MAC address, group addresses included (a traced frame's).
Result<MacAddress> parse_mac(std::string_view option, std::string_view text);

// What a filter matches: --mac, and --vlan N (1..4094) or --untagged; with
// neither, the filter matches untagged frames.
Result<api::FilterRule> parse_filter(std::string_view mac, const std::optional<std::string>& vlan, bool untagged);

// The VLAN id a traced frame carries: 0 (a priority tag) to 4095, because a
// trace may well ask what becomes of frames no filter can match.
Result<std::uint16_t> parse_frame_vlan(std::string_view option, std::string_view text);

Result<VlanMode> parse_vlan_mode_option(std::string_view text);

// The --watch interval in seconds, e.g. "1" or "0.5" (0.1 to 3600).
Result<double> parse_interval(std::string_view text);

// `stats [QUEUE] --watch [SECONDS]`: CLI11 hands the word after --watch to
// --watch, so `stats --watch web1` arrives as watch="web1". A word that is
// not a number is taken for the queue when no queue was given.
struct StatsArgs {
  std::optional<std::string> queue;
  std::optional<double> interval;  // set in --watch mode
};
Result<StatsArgs> resolve_stats_args(std::optional<std::string> queue, const std::optional<std::string>& watch);

}  // namespace vmq::cli
