// Turning the agent's JSON values into words and numbers for people. Every
// reader tolerates a missing or null member (an older or newer agent), so
// that printing never fails where the JSON would have been fine.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace vmq::cli {

using json = nlohmann::json;

// The member at `path`, or null when a step is missing.
const json& member(const json& object, std::initializer_list<std::string_view> path);

// A string as is, a number in decimal, a boolean as yes/no; "" for null, an
// empty string, or anything else (tables print "" as "-").
std::string text(const json& value);
// An unsigned counter; 0 when absent.
std::uint64_t count(const json& value);

// null is "untagged", as vmqd's filters say it.
std::string vlan_text(const json& vlan);
// "web1 (id 3)" from an object with "name" and "id".
std::string queue_label(const json& queue);
// ["a", "b"] -> "a, b"
std::string list_text(const json& array);
// [0, 1, 2, 5] -> "0-2,5"
std::string cpu_list_text(const json& cpus);
// 93784 -> "1d 2h 3m", 125 -> "2m 5s"
std::string uptime_text(std::int64_t seconds);
// 850 -> "850 us", 1500 -> "1.50 ms", 2350000 -> "2.35 s"
std::string duration_text(std::uint64_t microseconds);
// What a queue lost, from its "counters": port full, over quota, and what the
// kernel dropped before its socket (xsk rx_dropped and rx_ring_full).
std::uint64_t dropped_total(const json& counters);

// Packets per second: "-" when unknown, one decimal below 10, else whole.
std::string rate_text(std::optional<double> per_second);

}  // namespace vmq::cli
