// Command line of vmq-bench-datapath. The defaults name what deploy/bench.sh
// builds: namespaces bn-rx (case receive), the lab bn-dp (cases delivery and
// rebalance) and bn-mem (case memory). Case rebalance runs only when asked for.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace vmq::bench {

struct Options {
  std::vector<std::string> cases{"receive", "delivery", "memory"};
  unsigned rounds = 5;
  double warmup_seconds = 1.0;
  double window_seconds = 3.0;
  unsigned generator_cpu = 0;
  unsigned consumer_cpu = 1;
  std::uint32_t umem_frames = 4096;  // per uplink rx queue, vmqd's default
  // receive: veth pairs g<case> -> r<case> in this namespace (raw, vmq, drop)
  std::string receive_netns = "bn-rx";
  // delivery, rebalance: deploy/lab.sh's lab of this name, with `vms` VMs
  std::string lab = "bn-dp";
  unsigned vms = 8;
  // memory: uplink and ports <prefix>1..<prefix>N in this namespace
  std::string memory_netns = "bn-mem";
  std::string memory_uplink = "mup0";
  std::string memory_port_prefix = "mp";
  std::vector<unsigned> memory_queues{1, 64, 512};
  unsigned memory_rounds = 1;
  std::string vmqd;    // default: next to this binary in the build tree
  std::string vmqctl;  // idem
  std::string workdir = "/tmp/vmq-bench-datapath";
  std::string json_out;  // also write the JSON document here
  std::string command;   // the command line, for the report
};

inline constexpr int kExitUsage = 2;

// The options, or the exit status when there is nothing to run (--help, an error).
std::variant<Options, int> parse_options(int argc, char** argv);

bool wants_case(const Options& options, const std::string& name);

}  // namespace vmq::bench
