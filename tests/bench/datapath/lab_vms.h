// The VMs of deploy/lab.sh's lab as the delivery and rebalance cases see
// them: each VM's port in the host namespace, its flow (MAC, VLAN) and its
// eth0 counters, and the vmqd queue that serves it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "frames.h"
#include "link_stats.h"
#include "vmqd.h"

namespace vmq::bench {

inline constexpr const char* kLabUplink = "uplink0";

struct VmEnd {
  std::string name;  // vmN
  std::string port;  // vmNport, in the host namespace
  Flow flow;
  std::unique_ptr<LinkStatsReader> stats;  // eth0, in the VM's namespace
};

// vm1..vmN of lab `lab`, vmN with flows[N - 1].
Result<std::vector<VmEnd>> open_lab_vms(const std::string& lab, const std::vector<Flow>& flows);

std::string queue_name(const VmEnd& vm);

// `vmqctl queue add` for the VM: its MAC and VLAN, its port, pinned on `cpu`.
Result<void> add_vm_queue(Vmqd& vmqd, const VmEnd& vm, unsigned cpu);
// The same with other placement options, e.g. {"--cpus", "0,1"}.
Result<void> add_vm_queue(Vmqd& vmqd, const VmEnd& vm, const std::vector<std::string>& placement);

}  // namespace vmq::bench
