#include "os/xsk_rx_socket.h"

#include <linux/if_xdp.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <cerrno>

#include <fmt/format.h>

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif

namespace vmq::os {

Result<std::unique_ptr<XskRxSocket>> XskRxSocket::bind(int ifindex, unsigned queue, int owner_fd,
                                                        std::uint32_t ring_size) {
  std::unique_ptr<XskRxSocket> s(new XskRxSocket());
  s->fd_.reset(::socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0));
  if (!s->fd_) return fail_errno(errno, "creating an AF_XDP socket");
  if (setsockopt(s->fd(), SOL_XDP, XDP_RX_RING, &ring_size, sizeof ring_size) != 0)
    return fail_errno(errno, fmt::format("sizing an AF_XDP RX ring to {}", ring_size));
  xdp_mmap_offsets offsets{};
  socklen_t len = sizeof offsets;
  if (getsockopt(s->fd(), SOL_XDP, XDP_MMAP_OFFSETS, &offsets, &len) != 0)
    return fail_errno(errno, "reading the AF_XDP ring offsets");
  s->map_size_ = offsets.rx.desc + ring_size * sizeof(xdp_desc);
  void* map = mmap(nullptr, s->map_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, s->fd(), XDP_PGOFF_RX_RING);
  if (map == MAP_FAILED) return fail_errno(errno, "mapping an AF_XDP RX ring");
  s->map_ = map;
  auto* base = static_cast<std::uint8_t*>(map);
  xsk_ring_cons& r = s->ring_;
  r.mask = ring_size - 1;
  r.size = ring_size;
  r.producer = reinterpret_cast<std::uint32_t*>(base + offsets.rx.producer);
  r.consumer = reinterpret_cast<std::uint32_t*>(base + offsets.rx.consumer);
  r.flags = reinterpret_cast<std::uint32_t*>(base + offsets.rx.flags);
  r.ring = base + offsets.rx.desc;
  r.cached_prod = *r.producer;
  r.cached_cons = *r.consumer;

  sockaddr_xdp addr{};
  addr.sxdp_family = AF_XDP;
  addr.sxdp_ifindex = static_cast<std::uint32_t>(ifindex);
  addr.sxdp_queue_id = queue;
  addr.sxdp_flags = XDP_SHARED_UMEM;
  addr.sxdp_shared_umem_fd = static_cast<std::uint32_t>(owner_fd);
  if (::bind(s->fd(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return fail_errno(errno, fmt::format("binding an AF_XDP socket to rx queue {}", queue));
  return s;
}

XskRxSocket::~XskRxSocket() {
  if (map_) munmap(map_, map_size_);
}

}  // namespace vmq::os
