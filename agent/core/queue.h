// The records the agent keeps for each queue and filter: the truth that is
// persisted and restored (the kernel's XSKMAP cannot be read back).
#pragma once

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
  std::optional<unsigned> cpu;          // none: the least loaded allowed CPU
  std::optional<std::uint32_t> frames;  // hint; none: the configured default
  VlanMode vlan_mode = VlanMode::trunk;
};

struct Queue {
  QueueId id = 0;
  std::string name;
  std::string vm;
  std::string uplink;
  std::string port;
  unsigned cpu = 0;
  std::uint32_t frames = 0;  // the actual value chosen from the hint
  VlanMode vlan_mode = VlanMode::trunk;
  QueueState state = QueueState::undefined;
  bool paused_by_operator = false;  // filters kept but not matched
  std::vector<FilterId> filters;    // in the order they were set
  std::string last_error;           // why allocation could not complete, if it could not

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
