#include "bench_runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <random>

namespace vmq::bench {
namespace {

// The case must do what it claims on every run: its action, and the frame
// left as it was sent (what the next repeat sees).
Result<void> check_sample(const BenchCase& c, const Frame& sent, const RunSample& sample) {
  if (sample.action != c.expected_action)
    return fail(Errc::invalid_state, fmt::format("case {}: expected {}, the program returned {}", c.id,
                                                 xdp_action_name(c.expected_action), xdp_action_name(sample.action)));
  if (sample.frame != sent)
    return fail(Errc::invalid_state, fmt::format("case {}: the program changed the frame", c.id));
  return {};
}

Result<double> run_frames(const BenchCase& c, std::uint32_t repeat) {
  const auto per_frame = std::max<std::uint32_t>(1, repeat / static_cast<std::uint32_t>(c.frames.size()));
  double total_ns = 0;
  for (const Frame& frame : c.frames) {
    auto sample = c.run(frame, per_frame);
    if (!sample) return std::unexpected(sample.error());
    if (auto ok = check_sample(c, frame, *sample); !ok) return std::unexpected(ok.error());
    total_ns += sample->ns;
  }
  return total_ns / static_cast<double>(c.frames.size());
}

// Mean ns per run over the case's frames.
Result<double> measure(const BenchCase& c, std::uint32_t repeat) {
  if (c.before) {
    if (auto ok = c.before(); !ok) return std::unexpected(ok.error());
  }
  auto ns = run_frames(c, repeat);
  if (c.after) {
    if (auto ok = c.after(); !ok) return std::unexpected(ok.error());
  }
  return ns;
}

std::vector<std::size_t> shuffled_order(std::size_t count, std::mt19937& random) {
  std::vector<std::size_t> order(count);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), random);
  return order;
}

}  // namespace

Result<Samples> run_rounds(std::vector<BenchCase>& cases, const BenchOptions& options, std::ostream& progress) {
  progress << fmt::format("warm-up and checks: {} cases\n", cases.size()) << std::flush;
  for (const auto& c : cases) {
    if (auto ns = measure(c, std::max<std::uint32_t>(1000, options.repeat / 10)); !ns)
      return std::unexpected(ns.error());
  }
  Samples samples(cases.size());
  std::mt19937 random(options.seed);
  for (std::uint32_t round = 1; round <= options.rounds; ++round) {
    progress << fmt::format("round {}/{}\n", round, options.rounds) << std::flush;
    for (std::size_t index : shuffled_order(cases.size(), random)) {
      auto ns = measure(cases[index], options.repeat);
      if (!ns) return std::unexpected(ns.error());
      samples[index].push_back(*ns);
    }
  }
  return samples;
}

}  // namespace vmq::bench
