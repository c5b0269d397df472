// What vmq-bench-classifier prints: per case figures, comparisons between
// cases of the same rounds, the target verdict, the filter table and the
// price of one call, as markdown or as JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "bench_options.h"
#include "bench_runner.h"
#include "bench_stats.h"
#include "bench_suite.h"

namespace vmq::bench {

// The target of the classifier: at most this much over xdp_pass on a hit,
// and the hit cost flat from 1 to 65,536 filters within the tolerance.
inline constexpr double kTargetHitOverPassNs = 20.0;
inline constexpr double kFlatToleranceNs = 2.0;

struct CaseRow {
  std::string id;
  std::string label;
  CaseGroup group;
  std::uint32_t action;
  CaseFigures figures;
};

struct Comparison {
  std::string label;
  std::string from_id;
  std::string to_id;
  Spread difference;  // to - from, per round
};

// The yardstick that scales with the machine: plain_hash's hit over
// xdp_pass (+28 ns in perf-baselines.md, where the target of +20 ns is 0.71
// of it).
inline constexpr const char* kYardstickId = "plain_hash_hit_65536";

struct TargetVerdict {
  double worst_hit_over_pass = 0;  // median, the worst filter count
  double worst_hit_to_yardstick = 0;  // the same over plain_hash's, median of per-round ratios
  double flatness = 0;             // hit at 65,536 - hit at 1 filter, median per round
  bool hit_met = false;
  bool flat_met = false;
};

// The filter table every benchmark classifier has (limits kMaxFilters).
struct TableFigures {
  std::uint32_t max_filters = 0;
  std::uint32_t buckets = 0;
  std::uint32_t slots = 0;
  std::uint64_t bytes = 0;
};

// Hit and miss of each filter count over xdp_pass, as a ratio of
// plain_hash's hit over xdp_pass (median of per-round ratios).
struct YardstickRatios {
  std::uint32_t filters = 0;
  std::optional<double> hit, miss;
};

// One call the verifier does not inline, from call_cost.bpf.c.
struct CallCost {
  std::optional<double> helper_ns;
  std::optional<double> subprog_ns;
};

struct BenchReport {
  BenchOptions options;
  std::string kernel;
  std::vector<CaseRow> cases;
  std::vector<Comparison> comparisons;
  TargetVerdict target;
  std::vector<YardstickRatios> ratios;
  TableFigures table;
  CallCost call_cost;
};

BenchReport make_report(BenchSuite& suite, const Samples& samples, const BenchOptions& options);
std::string to_markdown(const BenchReport& report);
nlohmann::json to_json(const BenchReport& report);

}  // namespace vmq::bench
