// Figures over the rounds of the benchmark: per case, and between cases
// measured in the same round.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vmq::bench {

double median(std::vector<double> values);
double minimum(const std::vector<double>& values);

// to[r] - from[r] for every round r.
std::vector<double> per_round_differences(const std::vector<double>& from, const std::vector<double>& to);

struct Spread {
  double median = 0;
  double min = 0;
  double max = 0;
};
Spread spread_of(const std::vector<double>& values);

struct CaseFigures {
  std::vector<double> samples;  // ns per run, one per round
  double median = 0;
  double min = 0;
  Spread over_baseline;         // samples minus the baseline of the same round
};

CaseFigures figures_of(const std::vector<double>& samples, const std::vector<double>& baseline_samples);

}  // namespace vmq::bench
