#include "vhost/vhost_user_port.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <mutex>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_vhost.h>

#include "core/deferred_checksum.h"
#include "vhost/eal.h"
#include "vhost/tap_leg.h"

namespace vmq::vhost {
namespace {

constexpr std::uint16_t kGuestRxQueue = 0;  // the RX virtqueue of the guest's first queue pair
constexpr std::uint16_t kGuestTxQueue = 1;  // and its TX virtqueue
constexpr std::size_t kLegFrame = 2048;     // a tap's frames: its MTU (1500) and a VLAN tag fit
constexpr std::uint32_t kBurst = 32;
constexpr std::uint32_t kUdpChecksumOffset = 6;

// The mbufs rte_vhost fills with what guests transmit: shared by every
// port, no per-thread cache (workers are not DPDK lcores).
Result<rte_mempool*> leg_pool() {
  static std::mutex lock;
  static rte_mempool* pool = nullptr;
  std::lock_guard guard(lock);
  if (pool == nullptr) pool = rte_pktmbuf_pool_create("vmq-leg", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (pool == nullptr)
    return fail(Errc::system, fmt::format("creating the vhost-user legs' mbuf pool: {}", rte_strerror(rte_errno)));
  return pool;
}

// An mbuf header over bytes rte_vhost copies into the guest and never frees.
void describe_bytes(rte_mbuf& m, std::uint8_t* data, std::uint32_t len) {
  m = rte_mbuf{};
  m.buf_addr = data;
  m.buf_len = static_cast<std::uint16_t>(len);
  m.data_off = 0;
  m.data_len = static_cast<std::uint16_t>(len);
  m.pkt_len = len;
  m.nb_segs = 1;
  rte_mbuf_refcnt_set(&m, 1);
}

class VhostUserPort final : public os::VmPort {
 public:
  VhostUserPort(os::UplinkUmem& umem, std::unique_ptr<VhostUserDevice> device, std::optional<TapLeg> leg,
                rte_mempool* pool)
      : umem_(umem), device_(std::move(device)), leg_(std::move(leg)), pool_(pool) {
    for (std::uint32_t i = 0; i < kBurst; ++i) {
      burst_[i] = &headers_[i];
      leg_burst_[i] = &leg_headers_[i];
    }
    if (leg_) leg_buffers_.resize(kBurst * kLegFrame);
  }

  std::uint32_t transmit(std::span<const os::UmemFrame> batch) override {
    for (std::size_t done = 0; done < batch.size(); done += kBurst)
      transmit_burst(batch.subspan(done, std::min<std::size_t>(kBurst, batch.size() - done)));
    return static_cast<std::uint32_t>(batch.size());
  }

  void kick() override {}  // rte_vhost signals the guest after each burst, unless it polls

  unsigned reap(std::vector<std::uint64_t>& done) override {
    const auto n = static_cast<unsigned>(finished_.size());
    done.insert(done.end(), finished_.begin(), finished_.end());
    finished_.clear();
    in_flight_.store(0, std::memory_order_relaxed);
    umem_.note_in_flight(-static_cast<std::int64_t>(n));
    return n;
  }

  std::uint32_t in_flight() const override { return in_flight_.load(std::memory_order_relaxed); }

  void reclaim(std::vector<std::uint64_t>& done) override { reap(done); }

  os::PortCounters counters() const override {
    os::PortCounters c;
    c.delivered_packets = delivered_packets_.load(std::memory_order_relaxed);
    c.delivered_bytes = delivered_bytes_.load(std::memory_order_relaxed);
    c.refused = refused_.load(std::memory_order_relaxed);
    c.checksum_completed = checksum_completed_.load(std::memory_order_relaxed);
    c.has_leg = leg_.has_value();
    c.leg_to_guest = leg_to_guest_.load(std::memory_order_relaxed);
    c.leg_to_guest_refused = leg_to_guest_refused_.load(std::memory_order_relaxed);
    c.leg_from_guest = leg_from_guest_.load(std::memory_order_relaxed);
    return c;
  }

  int poll_fd() const override { return leg_ ? leg_->fd() : -1; }

  bool polled() const override { return leg_.has_value() && device_->connected(); }

  unsigned exchange() override {
    if (!leg_) return 0;
    const int vid = device_->enter();
    if (vid < 0) return discard_from_bridge();
    const unsigned moved = bridge_to_guest(vid) + guest_to_bridge(vid);
    device_->leave();
    return moved;
  }

 private:
  unsigned bridge_to_guest(int vid) {
    std::uint16_t n = 0;
    for (; n < kBurst; ++n) {
      std::uint8_t* buffer = leg_buffers_.data() + n * kLegFrame;
      const std::size_t len = leg_->read(std::span(buffer, kLegFrame));
      if (len == 0) break;
      describe_bytes(leg_headers_[n], buffer, static_cast<std::uint32_t>(len));
    }
    if (n == 0) return 0;
    const std::uint16_t enqueued = rte_vhost_enqueue_burst(vid, kGuestRxQueue, leg_burst_.data(), n);
    leg_to_guest_.fetch_add(enqueued, std::memory_order_relaxed);
    leg_to_guest_refused_.fetch_add(n - enqueued, std::memory_order_relaxed);
    return n;
  }

  unsigned guest_to_bridge(int vid) {
    std::array<rte_mbuf*, kBurst> sent{};
    const std::uint16_t n = rte_vhost_dequeue_burst(vid, kGuestTxQueue, pool_, sent.data(), kBurst);
    for (std::uint16_t i = 0; i < n; ++i) {
      std::array<iovec, 8> parts{};
      std::size_t count = 0;
      for (rte_mbuf* seg = sent[i]; seg != nullptr && count < parts.size(); seg = seg->next)
        parts[count++] = {rte_pktmbuf_mtod(seg, void*), seg->data_len};
      leg_->write(std::span(parts.data(), count));
      rte_pktmbuf_free(sent[i]);
    }
    leg_from_guest_.fetch_add(n, std::memory_order_relaxed);
    return n;
  }

  // No guest: the bridge's frames for it are dropped, as on an unplugged tap.
  unsigned discard_from_bridge() {
    unsigned n = 0;
    while (n < kBurst && leg_->read(std::span(leg_buffers_.data(), kLegFrame)) > 0) ++n;
    leg_to_guest_refused_.fetch_add(n, std::memory_order_relaxed);
    return n;
  }

  void transmit_burst(std::span<const os::UmemFrame> frames) {
    const auto n = static_cast<std::uint16_t>(frames.size());
    std::uint16_t enqueued = 0;
    if (const int vid = device_->enter(); vid >= 0) {
      const bool guest_csum = device_->guest_completes_checksums();
      for (std::uint16_t i = 0; i < n; ++i) describe(headers_[i], frames[i], guest_csum);
      enqueued = rte_vhost_enqueue_burst(vid, kGuestRxQueue, burst_.data(), n);
      device_->leave();
    }
    std::uint64_t bytes = 0;
    for (std::uint16_t i = 0; i < enqueued; ++i) bytes += frames[i].len;
    for (const auto& f : frames) finished_.push_back(f.addr);
    umem_.note_in_flight(n);
    in_flight_.store(static_cast<std::uint32_t>(finished_.size()), std::memory_order_relaxed);
    delivered_packets_.fetch_add(enqueued, std::memory_order_relaxed);
    delivered_bytes_.fetch_add(bytes, std::memory_order_relaxed);
    refused_.fetch_add(n - enqueued, std::memory_order_relaxed);
  }

  // An mbuf header that points at the frame in the UMEM.
  void describe(rte_mbuf& m, const os::UmemFrame& frame, bool guest_csum) {
    std::uint8_t* data = umem_.data(frame.addr);
    describe_bytes(m, data, frame.len);
    const std::span<std::uint8_t> bytes(data, frame.len);
    const auto deferred = find_deferred_checksum(bytes);
    if (!deferred) return;
    if (guest_csum && deferred->start <= 127 + 511) {
      // virtio-net's csum_start is l2_len + l3_len; how it splits does not matter.
      const std::uint32_t l2 = std::min<std::uint32_t>(deferred->start, 127);
      m.l2_len = l2 & 0x7f;
      m.l3_len = (deferred->start - l2) & 0x1ff;
      m.ol_flags = deferred->offset == kUdpChecksumOffset ? RTE_MBUF_F_TX_UDP_CKSUM : RTE_MBUF_F_TX_TCP_CKSUM;
      return;
    }
    complete_checksum(bytes, *deferred);
    checksum_completed_.fetch_add(1, std::memory_order_relaxed);
  }

  os::UplinkUmem& umem_;
  std::unique_ptr<VhostUserDevice> device_;
  std::optional<TapLeg> leg_;
  rte_mempool* pool_ = nullptr;
  std::array<rte_mbuf, kBurst> headers_{};
  std::array<rte_mbuf*, kBurst> burst_{};
  std::array<rte_mbuf, kBurst> leg_headers_{};
  std::array<rte_mbuf*, kBurst> leg_burst_{};
  std::vector<std::uint8_t> leg_buffers_;  // the bridge's frames on their way into the guest
  std::vector<std::uint64_t> finished_;  // taken frames, for the next reap()

  std::atomic<std::uint32_t> in_flight_{0};
  std::atomic<std::uint64_t> delivered_packets_{0};
  std::atomic<std::uint64_t> delivered_bytes_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> checksum_completed_{0};
  std::atomic<std::uint64_t> leg_to_guest_{0};
  std::atomic<std::uint64_t> leg_to_guest_refused_{0};
  std::atomic<std::uint64_t> leg_from_guest_{0};
};

}  // namespace

Result<std::unique_ptr<os::VmPort>> open_vhost_user_port(os::UplinkUmem& umem, QueueId queue, const std::string& path,
                                                        const VhostUserSettings& settings, const LogSink& log) {
  if (auto ok = ensure_eal(log); !ok) return std::unexpected(ok.error());
  std::optional<TapLeg> leg;
  rte_mempool* pool = nullptr;
  if (!settings.bridge.empty()) {
    auto tap = TapLeg::open(fmt::format("vmqvu{}", queue), settings.bridge);
    if (!tap) return std::unexpected(tap.error());
    leg.emplace(std::move(*tap));
    auto shared = leg_pool();
    if (!shared) return std::unexpected(shared.error());
    pool = *shared;
  }
  auto device = VhostUserDevice::listen(path, settings.access, log);
  if (!device) return std::unexpected(device.error());
  return std::make_unique<VhostUserPort>(umem, std::move(*device), std::move(leg), pool);
}

}  // namespace vmq::vhost
