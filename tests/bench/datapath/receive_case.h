// Case "receive": frames per second a busy-polling consumer on CPU1 gets
// while the generator and the receiving veth's softirq share CPU0
// (placement S of perf-baselines.md), for vmq's classified receive path and
// its yardsticks, one after the other within each round.
#pragma once

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "options.h"

namespace vmq::bench {

// Per-round raw numbers, the medians and the ratios, as JSON (the report
// prints from it).
Result<nlohmann::json> run_receive_case(const Options& options);

}  // namespace vmq::bench
