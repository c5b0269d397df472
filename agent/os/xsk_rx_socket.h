// An AF_XDP socket that only receives, sharing the buffer pool (UMEM, fill
// and completion rings) of another socket bound to the same device and
// queue. libxdp 1.3.1 always shares through the UMEM's first socket, which
// the kernel accepts only on that socket's queue: a VM queue's socket on rx
// queue 1 must name rx queue 1's anchor instead, so it is bound here.
#pragma once

#include <xdp/xsk.h>

#include <cstdint>
#include <memory>

#include "base/unique_fd.h"
#include "core/error.h"

namespace vmq::os {

class XskRxSocket {
 public:
  // `owner_fd`: a socket bound to (ifindex, queue) that owns the pool.
  static Result<std::unique_ptr<XskRxSocket>> bind(int ifindex, unsigned queue, int owner_fd, std::uint32_t ring_size);
  ~XskRxSocket();
  XskRxSocket(const XskRxSocket&) = delete;
  XskRxSocket& operator=(const XskRxSocket&) = delete;

  int fd() const { return fd_.get(); }
  xsk_ring_cons& ring() { return ring_; }
  const xsk_ring_cons& ring() const { return ring_; }

 private:
  XskRxSocket() = default;
  UniqueFd fd_;
  void* map_ = nullptr;
  std::size_t map_size_ = 0;
  xsk_ring_cons ring_{};
};

}  // namespace vmq::os
