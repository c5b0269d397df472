#include "bench_stats.h"

#include <algorithm>

namespace vmq::bench {

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

double minimum(const std::vector<double>& values) {
  return values.empty() ? 0 : *std::min_element(values.begin(), values.end());
}

std::vector<double> per_round_differences(const std::vector<double>& from, const std::vector<double>& to) {
  std::vector<double> differences;
  for (std::size_t r = 0; r < std::min(from.size(), to.size()); ++r) differences.push_back(to[r] - from[r]);
  return differences;
}

Spread spread_of(const std::vector<double>& values) {
  if (values.empty()) return {};
  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  return {median(values), *low, *high};
}

CaseFigures figures_of(const std::vector<double>& samples, const std::vector<double>& baseline_samples) {
  return {samples, median(samples), minimum(samples), spread_of(per_round_differences(baseline_samples, samples))};
}

}  // namespace vmq::bench
