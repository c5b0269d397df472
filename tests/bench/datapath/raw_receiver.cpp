#include "raw_receiver.h"

#include <linux/if_xdp.h>
#include <net/if.h>
#include <sys/mman.h>
#include <xdp/libxdp.h>

#include <cerrno>

#include <fmt/format.h>

#include "os/uplink_umem.h"
#include "os/xsk_statistics.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

namespace vmq::bench {
namespace {

constexpr std::uint32_t kBatch = 64;  // as vmq's workers take from an RX ring

}  // namespace

Result<nlohmann::json> xdp_statistics_of(int xsk_fd) {
  auto stats = os::xsk_statistics(xsk_fd);
  if (!stats) return std::unexpected(stats.error());
  return nlohmann::json{{"rx_dropped", stats->rx_dropped},
                        {"rx_invalid_descs", stats->rx_invalid_descs},
                        {"rx_ring_full", stats->rx_ring_full},
                        {"rx_fill_ring_empty_descs", stats->rx_fill_ring_empty_descs}};
}

Result<std::unique_ptr<RawXskReceiver>> RawXskReceiver::create(const std::string& device, std::uint32_t umem_frames) {
  std::unique_ptr<RawXskReceiver> receiver(new RawXskReceiver());
  if (auto ok = receiver->open(device, umem_frames); !ok) return std::unexpected(ok.error());
  return receiver;
}

Result<void> RawXskReceiver::open(const std::string& device, std::uint32_t umem_frames) {
  area_size_ = std::size_t{umem_frames} * os::kFrameSize;
  void* area = mmap(nullptr, area_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (area == MAP_FAILED) return fail_errno(errno, "allocating the raw socket's UMEM");
  area_ = area;
  // Fill ring twice the UMEM, as vmq's (the kernel releases fill entries lazily).
  const xsk_umem_config umem_config{2 * umem_frames, umem_frames, os::kFrameSize, 0, 0};
  if (int err = xsk_umem__create(&umem_, area_, area_size_, &fill_, &completion_, &umem_config))
    return fail_errno(-err, "registering the raw socket's UMEM");
  // The same modes as vmq's UMEM (copy, need_wakeup); libxdp loads its program.
  xsk_socket_config config{};
  config.rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS;
  config.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP;
  if (int err = xsk_socket__create(&socket_, device.c_str(), 0, umem_, &rx_, nullptr, &config))
    return fail_errno(-err, fmt::format("creating an AF_XDP socket on {} with libxdp's program", device));
  // A dispatcher would cost this side a program call vmq's bpf_link does not
  // pay: the report says which it was.
  xdp_multiprog* attached = xdp_multiprog__get_from_ifindex(static_cast<int>(if_nametoindex(device.c_str())));
  if (long err = libxdp_get_error(attached))
    return fail_errno(static_cast<int>(-err), fmt::format("reading the XDP program on {}", device));
  attached_as_ = xdp_multiprog__is_legacy(attached) ? "alone, over netlink" : "in libxdp's dispatcher";
  xdp_multiprog__close(attached);
  std::uint32_t index = 0;
  if (xsk_ring_prod__reserve(&fill_, umem_frames, &index) != umem_frames)
    return fail(Errc::system, "the raw socket's fill ring is smaller than its UMEM");
  for (std::uint32_t i = 0; i < umem_frames; ++i)
    *xsk_ring_prod__fill_addr(&fill_, index + i) = std::uint64_t{i} * os::kFrameSize;
  xsk_ring_prod__submit(&fill_, umem_frames);
  return {};
}

RawXskReceiver::~RawXskReceiver() {
  consumer_.stop();
  if (socket_) xsk_socket__delete(socket_);
  if (umem_) xsk_umem__delete(umem_);
  if (area_) munmap(area_, area_size_);
}

Result<void> RawXskReceiver::start(unsigned cpu) {
  return consumer_.start(cpu, [this] { return recycle_received(); });
}

unsigned RawXskReceiver::recycle_received() {
  std::uint32_t rx_index = 0;
  const std::uint32_t n = xsk_ring_cons__peek(&rx_, kBatch, &rx_index);
  if (n == 0) return 0;
  std::uint32_t fill_index = 0;
  // The fill ring has room for twice the UMEM: there is always room.
  if (xsk_ring_prod__reserve(&fill_, n, &fill_index) != n) return 0;
  for (std::uint32_t i = 0; i < n; ++i)
    *xsk_ring_prod__fill_addr(&fill_, fill_index + i) = xsk_ring_cons__rx_desc(&rx_, rx_index + i)->addr;
  xsk_ring_prod__submit(&fill_, n);
  xsk_ring_cons__release(&rx_, n);
  return n;
}

Result<nlohmann::json> RawXskReceiver::counters() const {
  auto stats = xdp_statistics_of(xsk_socket__fd(socket_));
  if (!stats) return std::unexpected(stats.error());
  return nlohmann::json{{"xsk", std::move(*stats)}};
}

}  // namespace vmq::bench
