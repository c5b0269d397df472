#include "os/uplink_umem.h"

#include <sys/mman.h>

#include <algorithm>

#include <fmt/format.h>

#include "os/netdev.h"

namespace vmq::os {

Result<std::unique_ptr<UplinkUmem>> UplinkUmem::create(const std::string& uplink, unsigned rx_queues,
                                                       std::uint32_t frames_per_rxq) {
  if (frames_per_rxq < 64 || (frames_per_rxq & (frames_per_rxq - 1)) != 0)
    return fail(Errc::invalid_argument, fmt::format("UMEM frames per rx queue {} must be a power of two >= 64",
                                                    frames_per_rxq));
  std::unique_ptr<UplinkUmem> umem(new UplinkUmem(uplink, frames_per_rxq));
  if (auto ok = umem->open(rx_queues); !ok) return std::unexpected(ok.error());
  return umem;
}

Result<void> UplinkUmem::open(unsigned rx_queues) {
  auto index = ifindex_of(uplink_);
  if (!index) return std::unexpected(index.error());
  ifindex_ = *index;
  area_size_ = std::size_t{rx_queues} * frames_per_rxq_ * kFrameSize;
  // Anonymous memory is zeroed: no frame ever shows stale bytes.
  void* area = mmap(nullptr, area_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (area == MAP_FAILED) return fail_errno(errno, fmt::format("uplink {}: allocating {} MiB of UMEM", uplink_,
                                                              area_size_ >> 20));
  area_ = static_cast<std::uint8_t*>(area);
  tx_notes_.assign(std::size_t{rx_queues} * frames_per_rxq_, 0);

  for (unsigned r = 0; r < rx_queues; ++r) rxqs_.push_back(std::make_unique<RxQueue>());
  // At a flush the kernel publishes a socket's new RX entries before the
  // fill-ring entries it consumed for them: a worker can take those frames
  // and give them back while the fill ring, if it were as large as the UMEM,
  // still looks full (seen under load). Twice the size always has room.
  const xsk_umem_config config{2 * frames_per_rxq_, frames_per_rxq_, kFrameSize, 0, 0};
  if (int err = xsk_umem__create(&umem_, area_, area_size_, &rxqs_[0]->fill, &rxqs_[0]->completion, &config))
    return fail_errno(-err, fmt::format("uplink {}: registering the UMEM", uplink_));

  // Copy mode: the ports (taps, veths) that share this UMEM cannot do
  // zero-copy, and a shared UMEM has one mode.
  xsk_socket_config anchor{};
  anchor.rx_size = 64;
  anchor.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
  anchor.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP;
  for (unsigned r = 0; r < rx_queues; ++r) {
    RxQueue& q = *rxqs_[r];
    if (int err = xsk_socket__create_shared(&q.anchor, uplink_.c_str(), r, umem_, &q.anchor_rx, nullptr, &q.fill,
                                            &q.completion, &anchor))
      return fail_errno(-err, fmt::format("uplink {}: binding the AF_XDP socket of rx queue {}", uplink_, r));
    std::vector<std::uint64_t> frames(frames_per_rxq_);
    for (std::uint32_t i = 0; i < frames_per_rxq_; ++i)
      frames[i] = (std::uint64_t{r} * frames_per_rxq_ + i) * kFrameSize;
    fill(r, frames);
  }
  return {};
}

UplinkUmem::~UplinkUmem() {
  for (auto& q : rxqs_)
    if (q->anchor) xsk_socket__delete(q->anchor);
  if (umem_) xsk_umem__delete(umem_);
  if (area_) munmap(area_, area_size_);
}

void UplinkUmem::fill(unsigned rxq, std::span<const std::uint64_t> addrs) {
  RxQueue& q = *rxqs_[rxq];
  std::lock_guard lock(q.fill_lock);
  std::uint32_t index = 0;
  const auto n = static_cast<std::uint32_t>(addrs.size());
  if (xsk_ring_prod__reserve(&q.fill, n, &index) != n) {
    overflow_.fetch_add(n, std::memory_order_relaxed);
    return;
  }
  for (std::uint32_t i = 0; i < n; ++i) *xsk_ring_prod__fill_addr(&q.fill, index + i) = addrs[i];
  xsk_ring_prod__submit(&q.fill, n);
  produced_.fetch_add(n, std::memory_order_relaxed);
}

void UplinkUmem::recycle(std::span<const std::uint64_t> addrs) {
  if (addrs.empty()) return;
  const std::uint64_t partition = std::uint64_t{frames_per_rxq_} * kFrameSize;
  if (rxqs_.size() == 1) {
    fill(0, addrs);
    return;
  }
  std::vector<std::uint64_t> by_rxq;
  for (unsigned r = 0; r < rxqs_.size(); ++r) {
    by_rxq.clear();
    for (std::uint64_t a : addrs)
      if (a / partition == r) by_rxq.push_back(a);
    if (!by_rxq.empty()) fill(r, by_rxq);
  }
}

std::uint64_t UplinkUmem::fill_ring_entries() const {
  std::uint64_t n = 0;
  for (const auto& q : rxqs_)
    n += __atomic_load_n(q->fill.producer, __ATOMIC_ACQUIRE) - __atomic_load_n(q->fill.consumer, __ATOMIC_ACQUIRE);
  return n;
}

UmemStats UplinkUmem::stats() const {
  UmemStats s;
  s.frames_total = std::uint64_t{frames_per_rxq_} * rxqs_.size();
  s.frames_in_kernel = produced_.load() - taken_.load();
  s.frames_in_flight = static_cast<std::uint64_t>(std::max<std::int64_t>(0, in_flight_.load()));
  s.frames_lost = lost_.load() + overflow_.load();
  s.fill_ring_entries = fill_ring_entries();
  // What the counters cannot place is held by a worker between two steps.
  const std::uint64_t placed = s.frames_in_kernel + s.frames_in_flight + s.frames_lost;
  s.frames_in_worker = s.frames_total > placed ? s.frames_total - placed : 0;
  return s;
}

}  // namespace vmq::os
