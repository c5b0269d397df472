#include "options.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>

namespace vmq::bench {
namespace {

// The build tree: <build>/tests/bench/datapath/vmq-bench-datapath.
std::filesystem::path build_root() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return self.parent_path().parent_path().parent_path().parent_path();
}

std::string joined(int argc, char** argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) {
    if (i) out += ' ';
    out += argv[i];
  }
  return out;
}

}  // namespace

std::variant<Options, int> parse_options(int argc, char** argv) {
  Options o;
  CLI::App app{
      "vmq's data path against its yardsticks, measured side by side in interleaved rounds:\n"
      "  receive:  classified receive (vmq's classifier + 8 queues on one UMEM) vs one raw AF_XDP socket\n"
      "  delivery: frames into 8 VMs' ports through vmqd vs through the Linux bridge\n"
      "  memory:   vmqd's resident memory with 1, 64 and 512 queues\n"
      "  rebalance: skewed load into the delivery lab's VMs, every queue starting on the generator's CPU:\n"
      "             vmqd's rebalancer (Dynamic VMQ) off vs on (not in the default list)\n"
      "  subqueues: one VM's many flows through 1 vs 2 sub-queues (VMMQ) (not in the default list)\n"
      "Needs root and the namespaces deploy/bench.sh creates; run it through deploy/bench.sh.",
      "vmq-bench-datapath"};
  app.add_option("--cases", o.cases, "receive, delivery, memory, rebalance, subqueues (default: the first three)")
      ->delimiter(',')
      ->check(CLI::IsMember({"receive", "delivery", "memory", "rebalance", "subqueues"}));
  app.add_option("--rounds", o.rounds, "interleaved rounds of the receive, delivery and rebalance cases")
      ->check(CLI::Range(1u, 20u));
  app.add_option("--warmup", o.warmup_seconds, "seconds of traffic before a window")->check(CLI::Range(0.2, 10.0));
  app.add_option("--window", o.window_seconds, "seconds frames are counted")->check(CLI::Range(0.5, 30.0));
  app.add_option("--generator-cpu", o.generator_cpu, "CPU of the generator (and of the receiving softirq)");
  app.add_option("--consumer-cpu", o.consumer_cpu, "CPU of the busy-polling consumer and of vmqd's workers");
  app.add_option("--umem-frames", o.umem_frames, "UMEM frames per uplink rx queue (vmqd --umem-frames)");
  app.add_option("--receive-netns", o.receive_netns, "namespace of the receive case");
  app.add_option("--lab", o.lab, "lab.sh name of the delivery and rebalance cases");
  app.add_option("--vms", o.vms, "VMs of the delivery case (flows; the rebalance case needs 4 or more)")->check(CLI::Range(1u, 8u));
  app.add_option("--memory-netns", o.memory_netns, "namespace of the memory case");
  app.add_option("--memory-uplink", o.memory_uplink, "uplink of the memory case");
  app.add_option("--memory-port-prefix", o.memory_port_prefix, "ports <prefix>1..<prefix>N of the memory case");
  app.add_option("--memory-queues", o.memory_queues, "queue counts RSS is read at")->delimiter(',');
  app.add_option("--memory-rounds", o.memory_rounds, "vmqd instances of the memory case")->check(CLI::Range(1u, 5u));
  app.add_option("--vmqd", o.vmqd, "vmqd binary (default: the build tree's)");
  app.add_option("--vmqctl", o.vmqctl, "vmqctl binary (default: the build tree's)");
  app.add_option("--workdir", o.workdir, "vmqd's socket, state and log");
  app.add_option("--json-out", o.json_out, "write the JSON document (raw per-round numbers) here");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  const auto root = build_root();
  if (o.vmqd.empty()) o.vmqd = (root / "agent" / "vmqd").string();
  if (o.vmqctl.empty()) o.vmqctl = (root / "cli" / "vmqctl").string();
  std::sort(o.memory_queues.begin(), o.memory_queues.end());
  o.command = joined(argc, argv);
  return o;
}

bool wants_case(const Options& options, const std::string& name) {
  return std::find(options.cases.begin(), options.cases.end(), name) != options.cases.end();
}

}  // namespace vmq::bench
