// The records the agent keeps for each queue and filter: the truth that is
// persisted and restored (the kernel's XSKMAP cannot be read back).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/filter.h"
#include "core/queue_state.h"

namespace vmq {

// What an operator asks for when allocating a queue.
struct QueueParams {
  std::string name;
  std::string vm;
  std::string uplink;
  std::string port;
  std::optional<unsigned> cpu;          // pins the queue there; none: the least loaded allowed CPU, and
                                        // the rebalancer may move it
  std::optional<std::uint32_t> frames;  // hint; none: the configured default
  VlanMode vlan_mode = VlanMode::trunk;
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
