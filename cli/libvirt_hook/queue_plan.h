// Which of a domain's interfaces get a queue, and the queue each one gets:
// the operator's selection (hook configuration and domain metadata) applied
// to the domain XML. Pure: no I/O, so every rule is unit-tested.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/filter.h"
#include "libvirt_hook/domain.h"
#include "libvirt_hook/hook_config.h"

namespace vmq::libvirt_hook {

struct QueueRequest {
  std::string name;     // queue_name_for(domain, MAC)
  std::string vm;       // the domain's name
  std::string uplink;
  std::string port;     // the tap
  VlanMode vlan_mode = VlanMode::access;
  std::vector<FilterMatch> filters;  // one per VLAN tag, or one untagged
  std::optional<unsigned long> frames;
  std::string interface;  // "interface 52:54:00:12:34:56 (tap vnet3, bridge br0)", for log lines
};

struct QueuePlan {
  std::vector<QueueRequest> queues;
  std::vector<std::string> skipped;  // interfaces not selected, and why: information
  std::vector<std::string> errors;   // selected but impossible, or malformed choices: failures
};

// For started, reconnect and attach.
QueuePlan plan_queues(const Domain& domain, const HookConfig& config);

// For stopped and release: the queues the hook may have made for this domain,
// whatever the selection says now (it may have changed since the start).
std::vector<std::string> queue_names_of(const Domain& domain);

}  // namespace vmq::libvirt_hook
