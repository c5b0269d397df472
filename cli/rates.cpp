#include "rates.h"

namespace vmq::cli {

std::optional<double> rate_per_second(std::uint64_t before, std::uint64_t after, std::int64_t elapsed_ms) {
  if (elapsed_ms <= 0 || after < before) return std::nullopt;
  return static_cast<double>(after - before) * 1000.0 / static_cast<double>(elapsed_ms);
}

void RateTracker::next_sample(std::int64_t timestamp_ms) {
  previous_ = std::move(current_);
  current_.clear();
  previous_ms_ = current_ms_;
  current_ms_ = timestamp_ms;
}

std::optional<double> RateTracker::rate(const std::string& key, std::uint64_t value) {
  current_[key] = value;
  auto before = previous_.find(key);
  if (before == previous_.end() || !previous_ms_ || !current_ms_) return std::nullopt;
  return rate_per_second(before->second, value, *current_ms_ - *previous_ms_);
}

}  // namespace vmq::cli
