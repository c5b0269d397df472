#include "bench_options.h"

#include <CLI/CLI.hpp>

namespace vmq::bench {

std::variant<BenchOptions, int> parse_options(int argc, char** argv) {
  BenchOptions options;
  int cpu = -1;
  CLI::App app{
      "Nanoseconds per frame of vmq's XDP classifier under BPF_PROG_TEST_RUN, interleaved with "
      "baselines (xdp_pass, plain_hash) in the same run. Needs CAP_BPF; exits 77 without it."};
  app.add_option("--rounds", options.rounds, "rounds; each runs every case once")->check(CLI::Range(1u, 1000u));
  app.add_option("--repeat", options.repeat, "runs per case and round (the kernel reports the mean)")
      ->check(CLI::Range(1000u, 100'000'000u));
  app.add_option("--flows", options.flows, "distinct hit frames per hit case, the repeat split over them")
      ->check(CLI::Range(1u, 64u));
  app.add_option("--seed", options.seed, "seed of the shuffled case order within a round");
  app.add_option("--cpu", cpu, "pin to this CPU")->check(CLI::NonNegativeNumber);
  app.add_flag("--json", options.json, "print a JSON document instead of the markdown tables");
  app.add_option("--json-out", options.json_out, "also write the JSON document to this file (the same run)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints the help or the error
    return code == 0 ? 0 : kExitUsage;
  }
  if (cpu >= 0) options.cpu = cpu;
  return options;
}

}  // namespace vmq::bench
