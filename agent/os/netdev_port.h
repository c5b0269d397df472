// A port that is a network device (QEMU's tap, a veth): an AF_XDP socket on
// the device that only transmits, on the uplink's UMEM, so a frame goes from
// the uplink's RX ring to the port's TX ring by descriptor, without a copy.
//
// A frame counts as delivered when its transmit completes, unless the port
// dropped it at transmit. On its way a frame whose TCP/UDP checksum its
// sender deferred gets it completed (core/deferred_checksum.h): the device
// receives plain frames.
#pragma once

#include <xdp/xsk.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/error.h"
#include "os/uplink_umem.h"
#include "os/vm_port.h"

namespace vmq::os {

class NetdevPort final : public VmPort {
 public:
  // `frames`: the TX ring's size.
  // Transmits on the device's queue `device_queue` (a multi-queue tap's
  // queue i reaches the guest's virtio queue pair i).
  static Result<std::unique_ptr<NetdevPort>> open(UplinkUmem& umem, const std::string& device, unsigned device_queue,
                                                  std::uint32_t frames);
  ~NetdevPort() override;
  NetdevPort(const NetdevPort&) = delete;
  NetdevPort& operator=(const NetdevPort&) = delete;

  std::uint32_t transmit(std::span<const UmemFrame> batch) override;
  void kick() override;
  unsigned reap(std::vector<std::uint64_t>& done) override;
  std::uint32_t in_flight() const override;
  void reclaim(std::vector<std::uint64_t>& done) override;
  PortCounters counters() const override;
  int poll_fd() const override { return -1; }

 private:
  explicit NetdevPort(UplinkUmem& umem) : umem_(umem) {}
  Result<void> bind(const std::string& device, unsigned device_queue, std::uint32_t frames);
  // Completes a deferred checksum in a frame about to go to the port.
  void complete_deferred_checksum(const UmemFrame& frame);
  void send_queued();
  // The TX ring's consumer index as the kernel published it.
  std::uint32_t tx_consumer() const { return __atomic_load_n(tx_.consumer, __ATOMIC_ACQUIRE); }
  void note_refused(std::uint32_t consumer_before, std::uint32_t consumer_after);

  UplinkUmem& umem_;
  xsk_socket* socket_ = nullptr;
  xsk_ring_prod tx_{};
  xsk_ring_prod fill_{};  // required by the kernel; the port never receives into it
  xsk_ring_cons completion_{};

  std::atomic<std::uint64_t> delivered_packets_{0};
  std::atomic<std::uint64_t> delivered_bytes_{0};
  std::atomic<std::uint64_t> checksum_completed_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> errors_{0};
  std::atomic<std::int64_t> in_flight_{0};
  // How far the kernel has taken descriptors from the TX ring. It runs ahead
  // of the published consumer index when a transmit call drops its first
  // frame: the kernel then returns EBUSY without publishing.
  std::uint32_t kernel_tx_position_ = 0;
  // While the device refuses transmits (down, gone), it is kicked at most
  // every kRetryInterval instead of on every round of the worker.
  std::chrono::steady_clock::time_point retry_at_{};
};

}  // namespace vmq::os
