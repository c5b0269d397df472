// Runs the cases: a checked warm-up pass, then rounds in which every case
// runs once, in an order shuffled per round, so slow drifts of the machine
// hit all cases alike.
#pragma once

#include <cstdint>
#include <ostream>
#include <vector>

#include "bench_options.h"
#include "bench_suite.h"

namespace vmq::bench {

// samples[case][round]: ns per run of the case in that round.
using Samples = std::vector<std::vector<double>>;

Result<Samples> run_rounds(std::vector<BenchCase>& cases, const BenchOptions& options, std::ostream& progress);

}  // namespace vmq::bench
