// vmqd's metrics in Prometheus's text format: a pure function of a snapshot
// (docs/metrics.md lists every metric).
#pragma once

#include <string>

#include "service/metrics_snapshot.h"

namespace vmq::service {

std::string render_metrics(const MetricsSnapshot& snapshot);

}  // namespace vmq::service
