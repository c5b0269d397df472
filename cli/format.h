// Words and numbers for people, from the control protocol's typed records.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/records.h"
#include "api/views.h"

namespace vmq::cli {

// "untagged" for none, as vmqd's filters say it.
std::string vlan_text(const std::optional<api::FilterVlan>& vlan);
// "MAC 52:54:00:aa:bb:cc VLAN 100", "MAC 52:54:00:aa:bb:cc untagged"
std::string match_text(const api::FilterRule& rule);
// "web1 (id 3)"
std::string queue_label(const api::QueueRef& queue);
std::string queue_label(const api::Queue& queue);
std::string yes_no(bool value);
// ["a", "b"] -> "a, b"
std::string list_text(const std::vector<std::string>& items);
// [0, 1, 2, 5] -> "0-2,5"
std::string cpu_list_text(const std::vector<std::uint32_t>& cpus);
// 93784 -> "1d 2h 3m", 125 -> "2m 5s"
std::string uptime_text(std::int64_t seconds);
// A Unix time in milliseconds as UTC, ISO 8601 to the second.
std::string utc_time_text(std::uint64_t unix_ms);
// 850 -> "850 us", 1500 -> "1.50 ms", 2350000 -> "2.35 s"
std::string duration_text(std::uint64_t microseconds);
// Packets per second: "-" when unknown, one decimal below 10, else whole.
std::string rate_text(std::optional<double> per_second);

}  // namespace vmq::cli
