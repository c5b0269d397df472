// A duration histogram with fixed bucket bounds, in seconds, as Prometheus
// histograms are: cumulative counts per upper bound, a sum and a count.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "service/metrics_exposition.h"

namespace vmq::service {

class DurationHistogram {
 public:
  // `upper_bounds` in seconds, strictly increasing.
  explicit DurationHistogram(std::vector<double> upper_bounds);

  void observe(std::chrono::nanoseconds duration);

  std::uint64_t count() const { return count_; }
  double sum_seconds() const { return sum_seconds_; }
  HistogramSample sample() const { return {upper_bounds_, cumulative_, sum_seconds_, count_}; }

 private:
  std::vector<double> upper_bounds_;
  std::vector<std::uint64_t> cumulative_;
  double sum_seconds_ = 0;
  std::uint64_t count_ = 0;
};

}  // namespace vmq::service
