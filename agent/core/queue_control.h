// The dataplane's control seam, QueueManager's only way to the kernel: it
// starts, publishes, moves, drains and stops queues and installs filters.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/filter.h"
#include "core/queue_state.h"
#include "core/telemetry.h"

namespace vmq {

// What kind of device the VM's port is: how its frames reach the guest.
enum class PortKind {
  netdev,  // a network device (QEMU's tap, a veth): AF_XDP transmit on the uplink's UMEM
};

// What the dataplane needs to run one queue.
struct QueueSpec {
  QueueId id = 0;
  std::string uplink;
  std::string port;        // the VM's port netdev (QEMU's tap, a veth in tests)
  unsigned cpu = 0;        // the worker that serves the queue runs here
  std::uint32_t frames = 0;  // RX ring size and in-flight quota
  VlanMode vlan_mode = VlanMode::trunk;
  PortKind port_kind = PortKind::netdev;
};

struct DrainResult {
  std::uint64_t frames = 0;  // delivered to the port during the drain
  std::chrono::microseconds duration{0};
  QueueStats final_stats;    // the queue's counters once drained
};

class QueueControl {
 public:
  virtual ~QueueControl() = default;

  // The uplinks queues may be placed on.
  virtual std::vector<std::string> uplink_names() const = 0;
  virtual Result<void> check_port(std::string_view port) const = 0;

  // ALLOCATION_COMPLETE: one socket per uplink rx queue in the queue's XSKMAP
  // slots, served by the worker on spec.cpu.
  virtual Result<void> start_queue(const QueueSpec& spec) = 0;
  // The queue as the classifier sees it; only `running` receives frames.
  virtual Result<void> publish_queue_state(const QueueSpec& spec, vmq_queue_state state) = 0;
  // Installs a filter; the hit counter of `filter` starts from zero.
  virtual Result<void> install_filter(std::string_view uplink, const FilterMatch& match, QueueId queue,
                                      FilterId filter) = 0;
  virtual Result<void> remove_filter(std::string_view uplink, const FilterMatch& match) = 0;
  // Moves the queue's processing to another CPU without losing a frame.
  virtual Result<void> move_queue(QueueId queue, unsigned cpu) = 0;
  // Stop DMA: waits until every frame the classifier put in the queue's
  // rings has been handed to the port (bounded by `timeout`).
  virtual Result<DrainResult> drain_queue(QueueId queue, std::chrono::milliseconds timeout) = 0;
  // Closes the queue's sockets and forgets it (the id may then be reused:
  // start_queue zeroes its counters).
  virtual void stop_queue(QueueId queue) = 0;
};

}  // namespace vmq
