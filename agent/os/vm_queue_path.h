// The data path of one VM queue: its AF_XDP socket on each uplink rx queue
// (its own RX ring, in the classifier's XSKMAP) and its TX socket on the VM's
// port, all on the uplink's UMEM.
//
// A frame's life: fill ring -> kernel -> this queue's RX ring -> service()
// -> the port's TX ring -> the port's completion ring -> the fill ring. A
// frame that cannot go on (the port's ring is full, the queue holds its quota
// in flight) goes straight back to the fill ring and is counted as dropped:
// a stalled VM costs its own frames, never the shared UMEM.
//
// On its way to the port a frame whose TCP/UDP checksum its sender deferred
// gets it completed (core/deferred_checksum.h). A frame counts as delivered
// when its transmit completes, unless the port dropped it at transmit.
#pragma once

#include <xdp/xsk.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/dataplane.h"
#include "os/serviced_queue.h"
#include "os/uplink_umem.h"
#include "os/xsk_rx_socket.h"

namespace vmq::os {

class VmQueuePath final : public ServicedQueue {
 public:
  static Result<std::unique_ptr<VmQueuePath>> open(UplinkUmem& umem, const QueueSpec& spec);
  ~VmQueuePath() override;
  VmQueuePath(const VmQueuePath&) = delete;
  VmQueuePath& operator=(const VmQueuePath&) = delete;

  QueueId id() const { return id_; }
  unsigned rx_queues() const { return static_cast<unsigned>(rx_.size()); }
  int rx_socket_fd(unsigned rxq) const;
  // Descriptors to wait on: every RX socket and the port's TX socket.
  std::vector<int> poll_fds() const override;

  // --- worker side: called by the one worker serving the queue ---
  // Moves what is ready (completions, then received frames) and gives spent
  // frames back to the fill rings.
  ServiceRound service() override;
  // Frames submitted to the port and not completed yet.
  bool awaiting_port() const override { return in_flight_.load(std::memory_order_relaxed) > 0; }
  void set_worker_tid(int tid) override { worker_tid_.store(tid, std::memory_order_relaxed); }

  // --- control side ---
  // RX rings empty and nothing in flight: the queue holds no frame.
  bool empty() const;
  std::uint64_t delivered_packets() const { return delivered_packets_.load(std::memory_order_relaxed); }
  // With no worker serving the queue: gives every frame it still holds back
  // to the UMEM (RX rings, the unsent part of the TX ring, completions).
  void reclaim();
  QueueStats stats() const;

 private:

  VmQueuePath(UplinkUmem& umem, const QueueSpec& spec) : umem_(umem), id_(spec.id), quota_(spec.frames) {}
  Result<void> open_sockets(const QueueSpec& spec);
  unsigned take_completions(std::vector<std::uint64_t>& returns);
  unsigned forward_received(XskRxSocket& rx, std::vector<std::uint64_t>& returns);
  // Completes a deferred checksum in a frame about to go to the port.
  void complete_deferred_checksum(const xdp_desc& desc);
  void kick_port();
  // The TX ring's consumer index as the kernel published it.
  std::uint32_t tx_consumer() const { return __atomic_load_n(tx_.consumer, __ATOMIC_ACQUIRE); }
  void note_refused_by_port(std::uint32_t consumer_before, std::uint32_t consumer_after);

  UplinkUmem& umem_;
  QueueId id_;
  std::uint32_t quota_;
  std::vector<std::unique_ptr<XskRxSocket>> rx_;  // one per uplink rx queue
  std::vector<std::uint64_t> returns_;  // the worker's batch of frames to give back
  xsk_socket* port_ = nullptr;
  xsk_ring_prod tx_{};
  xsk_ring_prod port_fill_{};  // required by the kernel; the port never receives into it
  xsk_ring_cons port_completion_{};

  std::atomic<std::uint64_t> received_{0};
  std::atomic<std::uint64_t> delivered_packets_{0};
  std::atomic<std::uint64_t> delivered_bytes_{0};
  std::atomic<std::uint64_t> checksum_completed_{0};
  std::atomic<std::uint64_t> dropped_port_full_{0};
  std::atomic<std::uint64_t> dropped_quota_{0};
  std::atomic<std::uint64_t> dropped_port_refused_{0};
  // How far the kernel has taken descriptors from the TX ring. It runs ahead
  // of the published consumer index when a transmit call drops its first
  // frame: the kernel then returns EBUSY without publishing.
  std::uint32_t kernel_tx_position_ = 0;
  std::atomic<std::uint64_t> port_errors_{0};
  std::atomic<std::int64_t> in_flight_{0};
  // While the port refuses transmits (down, gone), it is kicked at most every
  // kPortRetryInterval instead of on every round of the worker.
  std::chrono::steady_clock::time_point port_retry_at_{};
  std::atomic<int> worker_tid_{0};
};

}  // namespace vmq::os
