// What `vmqctl stats` prints for people: the default queue per uplink, the
// workers, the queues; with rates when a previous sample is known (--watch).
#pragma once

#include <string>

#include "api/methods.h"
#include "rates.h"

namespace vmq::cli {

// Without `rates` (no --watch) the rate columns are left out. A named
// queue's stats leave out the uplinks and workers: the question was about the queue.
std::string stats_text(const api::StatsReply& stats, bool one_queue, RateTracker* rates);

}  // namespace vmq::cli
