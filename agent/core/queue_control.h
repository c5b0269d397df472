// The dataplane's control seam, QueueManager's only way to the kernel: it
// starts, publishes, moves, drains and stops queues and installs filters.
#pragma once

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/port_kind.h"
#include "core/error.h"
#include "core/filter.h"
#include "core/queue_state.h"
#include "core/telemetry.h"

namespace vmq {

// What the dataplane needs to run one queue.
struct QueueSpec {
  QueueId id = 0;
  std::string uplink;
  std::string port;        // the VM's port: a netdev's name, or a vhost-user socket's path
  unsigned cpu = 0;        // the worker that serves the queue runs here
  std::uint32_t frames = 0;  // RX ring size and in-flight quota
  VlanMode vlan_mode = VlanMode::trunk;
  PortKind port_kind = PortKind::netdev;
  // VMMQ: each sub-queue's CPU, [0] == cpu; empty for one sub-queue.
  // Sub-queue i delivers to the port's queue i (a multi-queue tap).
  std::vector<unsigned> sub_queue_cpus{};

  unsigned sub_queues() const { return sub_queue_cpus.empty() ? 1 : static_cast<unsigned>(sub_queue_cpus.size()); }
  std::vector<unsigned> cpus() const { return sub_queue_cpus.empty() ? std::vector<unsigned>{cpu} : sub_queue_cpus; }
};

// What a look at a stopping queue finds; the caller decides when the drain
// is over (the rings have stayed empty for a while) or has taken too long.
struct DrainProbe {
  bool rings_empty = true;      // RX rings empty and nothing in flight to the port
  std::uint64_t delivered = 0;  // frames the queue has delivered to its port so far
  QueueStats stats;             // the queue's counters now
};

struct DrainResult {
  std::uint64_t frames = 0;  // delivered to the port during the drain
  std::chrono::microseconds duration{0};
  QueueStats final_stats;    // the queue's counters once drained
};

// start_queue's refusal while the kernel still releases the port's previous
// socket: it frees that socket's buffers from a workqueue, a few
// milliseconds after a queue on the port was stopped.
inline bool port_still_held(const Error& error) { return error.sys_errno == EBUSY; }

class QueueControl {
 public:
  virtual ~QueueControl() = default;

  // The uplinks queues may be placed on.
  virtual std::vector<std::string> uplink_names() const = 0;
  // Whether a queue could deliver to this port: a netdev that exists, a
  // vhost-user socket path vmqd may listen on.
  virtual Result<void> check_port(PortKind kind, std::string_view port) const = 0;

  // start_queue, move_queue and stop_queue hand the queue to a worker thread
  // or take it from one, and return before the worker has answered: the
  // caller polls change_settled(queue) until it is true, or an error (the
  // change failed, having changed nothing). A stop never fails: a queue
  // whose worker does not let go is freed once it does.
  virtual Result<bool> change_settled(QueueId queue) = 0;

  // ALLOCATION_COMPLETE: one socket per uplink rx queue in the queue's XSKMAP
  // slots, served by the worker on spec.cpu. Fails having changed nothing;
  // port_still_held(error) says to try again shortly.
  virtual Result<void> start_queue(const QueueSpec& spec) = 0;
  // The queue as the classifier sees it; only `running` receives frames.
  virtual Result<void> publish_queue_state(const QueueSpec& spec, QueueState state) = 0;
  // Installs a filter; the hit counter of `filter` starts from zero.
  virtual Result<void> install_filter(std::string_view uplink, const FilterMatch& match, QueueId queue,
                                      FilterId filter) = 0;
  virtual Result<void> remove_filter(std::string_view uplink, const FilterMatch& match) = 0;
  // Moves the queue's processing to another CPU without losing a frame.
  virtual Result<void> move_queue(QueueId queue, unsigned cpu) = 0;
  // Stop DMA: what the queue's rings hold now. Never waits: the caller
  // probes again until the rings stay empty.
  virtual Result<DrainProbe> drain_probe(QueueId queue) = 0;
  // Closes the queue's sockets and forgets it (the id may then be reused:
  // start_queue zeroes its counters).
  virtual void stop_queue(QueueId queue) = 0;
};

}  // namespace vmq
