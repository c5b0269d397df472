#include "service/metrics_histogram.h"

namespace vmq::service {

DurationHistogram::DurationHistogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)), cumulative_(upper_bounds_.size(), 0) {}

void DurationHistogram::observe(std::chrono::nanoseconds duration) {
  const double seconds = std::chrono::duration<double>(duration).count();
  for (std::size_t i = 0; i < upper_bounds_.size(); ++i)
    if (seconds <= upper_bounds_[i]) ++cumulative_[i];
  sum_seconds_ += seconds;
  ++count_;
}

}  // namespace vmq::service
