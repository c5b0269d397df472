// vmq-bench-datapath: vmq's data path next to its yardsticks, measured side
// by side in interleaved rounds on this machine (classified receive vs one
// raw AF_XDP socket, delivery into VMs vs the Linux bridge, vmqd's memory,
// skewed delivery with vmqd's rebalancer off vs on, one VM with 1 vs 2
// sub-queues).
// A benchmark, not a test: never registered with ctest. deploy/bench.sh
// builds the namespaces it needs and runs it.
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "delivery_case.h"
#include "os/xdp_attachment.h"
#include "memory_case.h"
#include "options.h"
#include "rebalance_case.h"
#include "subqueues_case.h"
#include "receive_case.h"
#include "report.h"
#include "support/privileges.h"
#include "window.h"

namespace {

constexpr int kExitSkipped = 77;

// What libbpf and libxdp say that is expected here: the classifier's
// section for libxdp (XDP_RUN_CONFIG), and libxdp's dispatcher failing its
// compatibility check (this kernel refuses it; vmq then uses a bpf_link).
bool expected_library_message(const char* line) {
  for (const char* known : {".xdp_run_config", "xdp_pass", "xdp-dispatcher", "ulimit -l", "dispatcher"})
    if (std::strstr(line, known)) return true;
  return false;
}

void print_library_warning(vmq::LogLevel level, std::string_view text) {
  if (level > vmq::LogLevel::warning) return;
  const std::string line(text);
  if (!expected_library_message(line.c_str())) std::cerr << line << '\n';
}

std::string kernel_release() {
  utsname name{};
  if (uname(&name) != 0) return "unknown kernel";
  return fmt::format("Linux {}", name.release);
}

// lscpu's "Model name": the first "model name" of /proc/cpuinfo.
std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("model name")) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) break;
    const auto value = line.find_first_not_of(" \t", colon + 1);
    return value == std::string::npos ? "unknown CPU" : line.substr(value);
  }
  return "unknown CPU";
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

nlohmann::json options_json(const vmq::bench::Options& o) {
  return {{"cases", o.cases},
          {"rounds", o.rounds},
          {"warmup_seconds", o.warmup_seconds},
          {"window_seconds", o.window_seconds},
          {"generator_cpu", o.generator_cpu},
          {"consumer_cpu", o.consumer_cpu},
          {"umem_frames", o.umem_frames},
          {"vms", o.vms},
          {"memory_queues", o.memory_queues},
          {"memory_rounds", o.memory_rounds}};
}

using CaseRunner = vmq::Result<nlohmann::json> (*)(const vmq::bench::Options&);

int run(const vmq::bench::Options& options) {
  vmq::os::route_library_logs(print_library_warning);
  vmq::bench::install_interrupt_handlers();
  nlohmann::json document = {{"command", options.command},
                             {"kernel", kernel_release()},
                             {"cpu_model", cpu_model()},
                             {"cpus", sysconf(_SC_NPROCESSORS_ONLN)},
                             {"started", utc_now()},
                             {"options", options_json(options)}};
  const std::pair<const char*, CaseRunner> cases[] = {{"receive", vmq::bench::run_receive_case},
                                                      {"delivery", vmq::bench::run_delivery_case},
                                                      {"memory", vmq::bench::run_memory_case},
                                                      {"rebalance", vmq::bench::run_rebalance_case},
                                                      {"subqueues", vmq::bench::run_subqueues_case}};
  for (const auto& [name, runner] : cases) {
    if (!vmq::bench::wants_case(options, name)) continue;
    vmq::Result<nlohmann::json> result;
    try {
      result = runner(options);
    } catch (const nlohmann::json::exception& e) {  // vmqctl's output was not what we read; unwinds the case
      result = vmq::fail(vmq::Errc::protocol, fmt::format("case {}: unexpected JSON from vmqctl: {}", name, e.what()));
    }
    if (!result) {
      std::cerr << "vmq-bench-datapath: " << result.error().message << '\n';
      return 1;
    }
    document[name] = std::move(*result);
  }
  vmq::bench::summarize(document);
  if (!options.json_out.empty()) {
    std::ofstream out(options.json_out);
    out << document.dump(2) << '\n';
    if (!out) {
      std::cerr << "vmq-bench-datapath: cannot write " << options.json_out << '\n';
      return 1;
    }
  }
  std::cout << vmq::bench::to_markdown(document);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = vmq::bench::parse_options(argc, argv);
  if (const int* exit_code = std::get_if<int>(&parsed)) return *exit_code;
  if (auto why = vmq::test::why_no_netadmin(); !why.empty()) {
    std::cerr << "vmq-bench-datapath: skipped: " << why << '\n';
    return kExitSkipped;
  }
  return run(std::get<vmq::bench::Options>(parsed));
}
