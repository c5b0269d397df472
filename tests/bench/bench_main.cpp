// vmq-bench-classifier: nanoseconds per frame of vmq's XDP classifier under
// BPF_PROG_TEST_RUN, next to baselines measured in the same rounds.
// A benchmark, not a test: never registered with ctest.
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <linux/capability.h>
#include <sched.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>

#include "bench_options.h"
#include "bench_report.h"
#include "bench_runner.h"
#include "bench_suite.h"
#include "support/privileges.h"

namespace {

constexpr int kExitSkipped = 77;  // the automake/ctest convention for "skipped"

std::string why_not_privileged() {
  if (auto why = vmq::test::why_no_bpf(); !why.empty()) return why;
  if (!vmq::test::has_capability(CAP_NET_RAW)) return "needs CAP_NET_RAW for the AF_XDP sockets of the hit cases";
  return {};
}

// libbpf's warnings, less the one every load of the classifier gives: it
// does not know the section libxdp reads (XDP_RUN_CONFIG).
int print_libbpf_warnings(libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG || level == LIBBPF_INFO) return 0;
  char line[512];
  const int length = std::vsnprintf(line, sizeof line, format, args);
  if (std::strstr(line, ".xdp_run_config")) return 0;
  std::fputs(line, stderr);
  return length;
}

vmq::Result<void> pin_to_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<std::size_t>(cpu), &set);
  if (sched_setaffinity(0, sizeof set, &set)) return vmq::fail_errno(errno, fmt::format("pinning to CPU {}", cpu));
  return {};
}

int run(const vmq::bench::BenchOptions& options) {
  libbpf_set_print(print_libbpf_warnings);
  if (options.cpu) {
    if (auto ok = pin_to_cpu(*options.cpu); !ok) {
      std::cerr << ok.error().message << '\n';
      return 1;
    }
  }
  std::cerr << "loading the programs and filling the tables\n";
  auto suite = vmq::bench::BenchSuite::build(options);
  if (!suite) {
    std::cerr << "setup failed: " << suite.error().message << '\n';
    return 1;
  }
  auto samples = vmq::bench::run_rounds((*suite)->cases(), options, std::cerr);
  if (!samples) {
    std::cerr << "benchmark failed: " << samples.error().message << '\n';
    return 1;
  }
  const auto report = vmq::bench::make_report(**suite, *samples, options);
  if (!options.json_out.empty()) {
    std::ofstream out(options.json_out);
    out << vmq::bench::to_json(report).dump(2) << '\n';
    if (!out) {
      std::cerr << "cannot write " << options.json_out << '\n';
      return 1;
    }
  }
  if (options.json)
    std::cout << vmq::bench::to_json(report).dump(2) << '\n';
  else
    std::cout << vmq::bench::to_markdown(report);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = vmq::bench::parse_options(argc, argv);
  if (const int* exit_code = std::get_if<int>(&parsed)) return *exit_code;
  if (auto why = why_not_privileged(); !why.empty()) {
    std::cerr << "vmq-bench-classifier: skipped: " << why << '\n';
    return kExitSkipped;
  }
  return run(std::get<vmq::bench::BenchOptions>(parsed));
}
