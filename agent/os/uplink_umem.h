// The UMEM of one uplink and its fill rings.
//
// One UMEM serves every rx queue of the uplink and every VM port that
// receives its frames: a redirect can only reach a socket on the rx queue
// the frame arrived on, so each rx queue gets its own fill ring (an anchor
// socket owns it), while the ports' TX sockets share the same memory, which
// lets a worker hand a received frame to the port by descriptor, without a
// copy. Frames are partitioned by rx queue and always go back to the fill
// ring they came from, so a busy rx queue cannot starve another.
//
// Fill rings are single-producer: workers on several CPUs return frames, so
// each fill ring has a lock. Workers batch their returns.
#pragma once

#include <xdp/xsk.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "core/dataplane.h"
#include "core/error.h"

namespace vmq::os {

inline constexpr std::uint32_t kFrameSize = XSK_UMEM__DEFAULT_FRAME_SIZE;  // 4096
inline constexpr std::uint32_t kFrameHeadroom = 256;                      // XDP_PACKET_HEADROOM
inline constexpr std::uint32_t kMaxFrameLen = kFrameSize - kFrameHeadroom;

class UplinkUmem {
 public:
  // frames_per_rxq: a power of two; the fill ring of each rx queue holds them all.
  static Result<std::unique_ptr<UplinkUmem>> create(const std::string& uplink, unsigned rx_queues,
                                                    std::uint32_t frames_per_rxq);
  ~UplinkUmem();
  UplinkUmem(const UplinkUmem&) = delete;
  UplinkUmem& operator=(const UplinkUmem&) = delete;

  xsk_umem* umem() const { return umem_; }
  const std::string& uplink() const { return uplink_; }
  unsigned rx_queues() const { return static_cast<unsigned>(rxqs_.size()); }
  std::uint32_t frames_per_rxq() const { return frames_per_rxq_; }
  std::uint8_t* data(std::uint64_t addr) const { return area_ + addr; }
  // The fill and completion rings to pass when creating a socket on rx queue r.
  xsk_ring_prod* fill_ring(unsigned rxq) { return &rxqs_[rxq]->fill; }
  xsk_ring_cons* completion_ring(unsigned rxq) { return &rxqs_[rxq]->completion; }
  // The socket that owns rx queue r's buffer pool; others on r share it.
  int anchor_fd(unsigned rxq) const { return xsk_socket__fd(rxqs_[rxq]->anchor); }
  int ifindex() const { return ifindex_; }

  // Frames taken from RX rings (by workers), for the ledger.
  void note_taken(std::uint64_t n) { taken_.fetch_add(n, std::memory_order_relaxed); }
  void note_in_flight(std::int64_t delta) { in_flight_.fetch_add(delta, std::memory_order_relaxed); }
  // Gives frames back to the fill rings of the rx queues they belong to.
  void recycle(std::span<const std::uint64_t> addrs);
  // Frames lost for good (in flight in the kernel when a port socket closed).
  void note_lost(std::uint64_t n) { lost_.fetch_add(n, std::memory_order_relaxed); }
  // A note on a frame while it is on a port's TX ring (its length, and
  // whether the port refused it), kept for its completion. A frame belongs
  // to one queue at a time, so only that queue's worker touches its note.
  std::uint16_t& tx_note(std::uint64_t addr) { return tx_notes_[addr / kFrameSize]; }

  UmemStats stats() const;
  // Entries the kernel has not yet consumed from the fill rings, read from
  // the rings themselves (an independent check of the ledger).
  std::uint64_t fill_ring_entries() const;

 private:
  struct RxQueue {
    xsk_ring_prod fill{};
    xsk_ring_cons completion{};
    xsk_ring_cons anchor_rx{};
    xsk_socket* anchor = nullptr;  // owns the fill ring; never in the XSKMAP
    std::mutex fill_lock;
  };

  UplinkUmem(std::string uplink, std::uint32_t frames_per_rxq) : uplink_(std::move(uplink)), frames_per_rxq_(frames_per_rxq) {}
  Result<void> open(unsigned rx_queues);
  void fill(unsigned rxq, std::span<const std::uint64_t> addrs);

  std::string uplink_;
  int ifindex_ = 0;
  std::uint32_t frames_per_rxq_;
  std::uint8_t* area_ = nullptr;
  std::size_t area_size_ = 0;
  xsk_umem* umem_ = nullptr;
  std::vector<std::unique_ptr<RxQueue>> rxqs_;
  std::vector<std::uint16_t> tx_notes_;  // one per frame
  std::atomic<std::uint64_t> produced_{0};  // frames put in fill rings
  std::atomic<std::uint64_t> taken_{0};
  std::atomic<std::int64_t> in_flight_{0};
  std::atomic<std::uint64_t> lost_{0};
  std::atomic<std::uint64_t> overflow_{0};  // returns that found a fill ring full (a bug if ever > 0)
};

}  // namespace vmq::os
