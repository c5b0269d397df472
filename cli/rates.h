// Packet rates from successive `stats` samples, for `stats --watch`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace vmq::cli {

// Per second between two readings of a counter taken elapsed_ms apart; none
// when no time passed or the counter went back (vmqd restarted, or the queue
// was deleted and its id reused).
std::optional<double> rate_per_second(std::uint64_t before, std::uint64_t after, std::int64_t elapsed_ms);

// Remembers each counter of the previous sample, by a key naming it (use ids,
// not names, so that a renamed queue keeps its history).
class RateTracker {
 public:
  // Starts a sample taken at `timestamp_ms` of the agent's monotonic clock (uptime_ms).
  void next_sample(std::int64_t timestamp_ms);
  // Records `value` in the current sample; its rate since the previous one.
  std::optional<double> rate(const std::string& key, std::uint64_t value);

 private:
  std::map<std::string, std::uint64_t> previous_, current_;
  std::optional<std::int64_t> previous_ms_, current_ms_;
};

}  // namespace vmq::cli
