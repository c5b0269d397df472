// The data path of one VM queue: its AF_XDP socket on each uplink rx queue
// (its own RX ring, in the classifier's XSKMAP) on the uplink's UMEM, and the
// VM's port (os/vm_port.h), whatever its kind.
//
// A frame's life: fill ring -> kernel -> this queue's RX ring -> service()
// -> the port -> the port's completions -> the fill ring. A frame that
// cannot go on (the port has no room, the queue holds its quota in flight)
// goes straight back to the fill ring and is counted as dropped: a stalled VM
// costs its own frames, never the shared UMEM.
#pragma once

#include <xdp/xsk.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/log.h"
#include "core/queue_control.h"
#include "os/serviced_queue.h"
#include "os/uplink_umem.h"
#include "os/vm_port.h"
#include "os/xsk_rx_socket.h"
#include "vhost/vhost_user_port.h"

namespace vmq::os {

class VmQueuePath final : public ServicedQueue {
 public:
  // Sub-queue `sub_queue` of the queue (0 for a queue of one); it delivers
  // to the port's queue of that number. The port's kind is spec.port_kind.
  // A vhost-user port is set up as `vhost` says; `log` takes what the port
  // has to say (a guest connecting, DPDK's messages).
  static Result<std::unique_ptr<VmQueuePath>> open(UplinkUmem& umem, const QueueSpec& spec, unsigned sub_queue,
                                                   const vhost::VhostUserSettings& vhost, const LogSink& log);
  // Gives every frame the queue still holds (RX rings, what its port holds)
  // back to the UMEM, then closes its sockets. No worker may serve it then.
  ~VmQueuePath() override;
  VmQueuePath(const VmQueuePath&) = delete;
  VmQueuePath& operator=(const VmQueuePath&) = delete;

  QueueId id() const { return id_; }
  unsigned rx_queues() const { return static_cast<unsigned>(rx_.size()); }
  int rx_socket_fd(unsigned rxq) const;
  // Descriptors to wait on: every RX socket, and the port's if it has one.
  std::vector<int> poll_fds() const override;

  // --- worker side: called by the one worker serving the queue ---
  // Moves what is ready (completions, then received frames) and gives spent
  // frames back to the fill rings.
  ServiceRound service() override;
  // Frames submitted to the port and not completed yet.
  bool awaiting_port() const override { return port_->in_flight() > 0 || port_->polled(); }
  void set_worker_tid(int tid) override { worker_tid_.store(tid, std::memory_order_relaxed); }

  // --- control side ---
  // RX rings empty and nothing in flight: the queue holds no frame.
  bool empty() const;
  std::uint64_t delivered_packets() const { return port_->counters().delivered_packets; }
  QueueStats stats() const;

 private:
  static constexpr std::uint32_t kRxBatch = 64;

  VmQueuePath(UplinkUmem& umem, const QueueSpec& spec) : umem_(umem), id_(spec.id), quota_(spec.frames) {}
  Result<void> open_rx_sockets(const QueueSpec& spec);
  Result<void> open_port(const QueueSpec& spec, unsigned sub_queue, const vhost::VhostUserSettings& vhost,
                         const LogSink& log);
  unsigned forward_received(XskRxSocket& rx, std::vector<std::uint64_t>& returns);
  void reclaim();

  UplinkUmem& umem_;
  QueueId id_;
  std::uint32_t quota_;
  std::vector<std::unique_ptr<XskRxSocket>> rx_;  // one per uplink rx queue
  std::unique_ptr<VmPort> port_;
  std::vector<std::uint64_t> returns_;  // the worker's batch of frames to give back
  std::array<UmemFrame, kRxBatch> batch_{};  // the worker's batch of frames for the port

  std::atomic<std::uint64_t> received_{0};
  std::atomic<std::uint64_t> dropped_port_full_{0};
  std::atomic<std::uint64_t> dropped_quota_{0};
  std::atomic<int> worker_tid_{0};
};

}  // namespace vmq::os
