// Command line of vmq-bench-classifier.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace vmq::bench {

struct BenchOptions {
  std::uint32_t rounds = 5;
  std::uint32_t repeat = 1'000'000;  // runs per case and round, split over the flows
  std::uint32_t flows = 4;           // distinct hit frames per hit case
  std::uint32_t seed = 1;            // of the case order within a round
  bool json = false;
  std::string json_out;               // also write the JSON document here
  std::optional<int> cpu;            // pin the benchmark to this CPU
};

inline constexpr int kExitUsage = 2;

// The options, or the exit code when parsing ended the run (--help, errors).
std::variant<BenchOptions, int> parse_options(int argc, char** argv);

}  // namespace vmq::bench
