// What live migration did since vmqd started, for /metrics: the drains and
// restores that completed (with how long their drain or restore took, the
// same figures as `drain_us` and `restore_us` in vmqctl --json) and the
// requests refused or failed.
#pragma once

#include <cstdint>
#include <vector>

#include "service/metrics_histogram.h"

namespace vmq::service {

struct MigrationMetrics {
  // 100 us to 5 s: a drain waits for the queue's rings (at most the dataplane's
  // drain timeout); a restore creates sockets and a worker.
  static std::vector<double> duration_buckets() {
    return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
  }

  DurationHistogram drains{duration_buckets()};
  DurationHistogram restores{duration_buckets()};  // restores that created a queue
  std::uint64_t drain_failures = 0;
  std::uint64_t restore_failures = 0;
};

}  // namespace vmq::service
