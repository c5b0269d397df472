// The cases of the classifier benchmark and everything they run on: the
// baselines, the production classifier at several filter counts, the
// access-mode harness and the price of one call.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bench_object.h"
#include "bench_options.h"
#include "filter_setup.h"
#include "os/classifier.h"
#include "support/xsk_placeholder.h"

struct bench_retag_harness;

namespace vmq::bench {

enum class CaseGroup { baseline, vmq, call_cost };

struct BenchCase {
  std::string id;     // stable name for JSON and comparisons
  std::string label;  // what the table shows
  CaseGroup group;
  std::uint32_t expected_action;
  std::vector<Frame> frames;  // the repeat is split evenly over them
  std::function<Result<RunSample>(std::span<const std::uint8_t> frame, std::uint32_t repeat)> run;
  std::function<Result<void>()> before;  // optional: set the tables up for this case
  std::function<Result<void>()> after;   // optional: undo `before`
};

// Filter counts the production classifier is measured at.
inline constexpr std::uint32_t kFilterCounts[] = {1, 1000, kMaxFilters};
// Calls each program of call_cost.bpf.c makes.
inline constexpr std::uint32_t kCallCostCalls = 16;
// Keys in the plain_hash yardstick, as in perf-baselines.md.
inline constexpr std::uint32_t kPlainHashKeys = 8;

struct RetagHarnessDeleter {
  void operator()(bench_retag_harness* skel) const;
};

class BenchSuite {
 public:
  static Result<std::unique_ptr<BenchSuite>> build(const BenchOptions& options);

  std::vector<BenchCase>& cases() { return cases_; }
  // The filter table of every benchmark classifier (limits kMaxFilters).
  const FilterTableShape& table_shape() const { return classifiers_.front().filter_table_shape(); }

 private:
  explicit BenchSuite(std::uint32_t flows) : flows_(flows) {}
  Result<void> add_baselines();
  Result<void> add_plain_hash(std::uint32_t keys, bool with_miss);
  // A classifier build loaded with `filters` filters installed.
  struct Production {
    os::Classifier* classifier;  // in classifiers_
    InstalledFilters filters;
  };
  Result<Production> load_production(std::uint32_t filters, bool multi_buffer);
  Result<void> add_production(std::uint32_t filters);
  Result<void> add_multi_buffer_build(std::uint32_t filters);
  Result<void> add_access_mode(os::Classifier& classifier, const InstalledFilters& installed);
  Result<void> add_call_cost();

  std::uint32_t flows_;
  std::deque<os::Classifier> classifiers_;
  std::deque<BenchObject> objects_;
  std::vector<std::unique_ptr<bench_retag_harness, RetagHarnessDeleter>> harnesses_;
  std::vector<test::XskPlaceholder> sockets_;
  std::vector<BenchCase> cases_;
};

std::string_view to_string(CaseGroup group);

}  // namespace vmq::bench
