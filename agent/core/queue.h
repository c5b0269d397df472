// The records the agent keeps for each queue and filter: the truth that is
// persisted and restored (the kernel's XSKMAP cannot be read back).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/port_kind.h"
#include "core/filter.h"
#include "core/queue_state.h"

namespace vmq {

// VMMQ: the most sub-queues one queue may have (the classifier's limit,
// asserted in os/abi_conversions.h).
inline constexpr unsigned kMaxSubQueues = 16;

// What an operator asks for when allocating a queue.
struct QueueParams {
  std::string name;
  std::string vm;
  std::string uplink;
  std::string port;  // a netdev's name, or a vhost-user socket's path (port_kind)
  std::optional<unsigned> cpu;          // pins the queue there; none: the least loaded allowed CPU, and
                                        // the rebalancer may move it
  std::optional<std::uint32_t> frames;  // hint; none: the configured default
  VlanMode vlan_mode = VlanMode::trunk;
  // VMMQ: more than one sub-queue, each on its own CPU; the classifier
  // spreads the VM's flows over them. Either the CPUs (one per sub-queue)
  // or a count (the least loaded CPUs); never with `cpu`.
  std::vector<unsigned> sub_queue_cpus{};
  unsigned sub_queues = 1;
  PortKind port_kind = PortKind::netdev;
};

// Who moved a queue to another CPU.
enum class MoveOrigin { operator_request, rebalancer };

struct QueueMoveRecord {
  unsigned from = 0;
  unsigned to = 0;
  MoveOrigin by = MoveOrigin::operator_request;
  std::string reason;
  std::chrono::system_clock::time_point at;
};

struct Queue {
  QueueId id = 0;
  std::string name;
  std::string vm;
  std::string uplink;
  std::string port;
  unsigned cpu = 0;
  bool cpu_pinned = false;  // the operator chose the CPU: the rebalancer never moves it
  std::uint32_t frames = 0;  // the actual value chosen from the hint
  VlanMode vlan_mode = VlanMode::trunk;
  QueueState state = QueueState::undefined;
  bool paused_by_operator = false;  // filters kept but not matched
  std::vector<FilterId> filters;    // in the order they were set
  std::string last_error;           // why allocation could not complete, if it could not
  std::optional<QueueMoveRecord> last_move;
  // VMMQ: each sub-queue's CPU, [0] == cpu; empty for a queue of one. Such
  // a queue is pinned: its sub-queues stay on their CPUs.
  std::vector<unsigned> sub_queue_cpus{};
  PortKind port_kind = PortKind::netdev;

  unsigned sub_queues() const { return sub_queue_cpus.empty() ? 1 : static_cast<unsigned>(sub_queue_cpus.size()); }
  std::vector<unsigned> cpus() const { return sub_queue_cpus.empty() ? std::vector<unsigned>{cpu} : sub_queue_cpus; }

  // The NDIS operational state the classifier and the operator see.
  QueueState visible_state() const {
    return paused_by_operator && state == QueueState::running ? QueueState::paused : state;
  }
};

struct Filter {
  FilterId id = 0;
  QueueId queue = 0;
  FilterMatch match;
};

}  // namespace vmq
