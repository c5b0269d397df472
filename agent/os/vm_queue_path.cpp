#include "os/vm_queue_path.h"

#include <algorithm>

#include <fmt/format.h>

#include "os/netdev_port.h"
#include "vhost/vhost_user_port.h"
#include "os/xsk_statistics.h"

namespace vmq::os {
namespace {

std::uint32_t ring_entries(const std::uint32_t* producer, const std::uint32_t* consumer) {
  return __atomic_load_n(producer, __ATOMIC_ACQUIRE) - __atomic_load_n(consumer, __ATOMIC_ACQUIRE);
}

}  // namespace

Result<std::unique_ptr<VmQueuePath>> VmQueuePath::open(UplinkUmem& umem, const QueueSpec& spec, unsigned sub_queue,
                                                       const vhost::VhostUserSettings& vhost, const LogSink& log) {
  std::unique_ptr<VmQueuePath> path(new VmQueuePath(umem, spec));
  if (auto ok = path->open_rx_sockets(spec); !ok) return std::unexpected(ok.error());
  if (auto ok = path->open_port(spec, sub_queue, vhost, log); !ok) return std::unexpected(ok.error());
  return path;
}

Result<void> VmQueuePath::open_rx_sockets(const QueueSpec& spec) {
  for (unsigned r = 0; r < umem_.rx_queues(); ++r) {
    auto socket = XskRxSocket::bind(umem_.ifindex(), r, umem_.anchor_fd(r), spec.frames);
    if (!socket)
      return fail(socket.error().code, fmt::format("{} rx queue {}: {}", umem_.uplink(), r, socket.error().message));
    rx_.push_back(std::move(*socket));
  }
  return {};
}

Result<void> VmQueuePath::open_port(const QueueSpec& spec, unsigned sub_queue,
                                    const vhost::VhostUserSettings& vhost, const LogSink& log) {
  switch (spec.port_kind) {
    case PortKind::netdev: {
      auto port = NetdevPort::open(umem_, spec.port, sub_queue, spec.frames);
      if (!port) return std::unexpected(port.error());
      port_ = std::move(*port);
      return {};
    }
    case PortKind::vhost_user: {
      if (sub_queue > 0)
        return fail(Errc::invalid_argument, fmt::format("queue {}: a vhost-user port takes one sub-queue", spec.id));
      auto port = vhost::open_vhost_user_port(umem_, spec.id, spec.port, vhost, log);
      if (!port) return std::unexpected(port.error());
      port_ = std::move(*port);
      return {};
    }
  }
  return fail(Errc::unsupported, fmt::format("queue {}: unknown port kind", spec.id));
}

VmQueuePath::~VmQueuePath() { reclaim(); }

int VmQueuePath::rx_socket_fd(unsigned rxq) const { return rx_[rxq]->fd(); }

std::vector<int> VmQueuePath::poll_fds() const {
  std::vector<int> fds;
  for (const auto& rx : rx_) fds.push_back(rx->fd());
  if (const int fd = port_->poll_fd(); fd >= 0) fds.push_back(fd);
  return fds;
}

ServiceRound VmQueuePath::service() {
  ServiceRound round;
  round.completions = port_->reap(returns_);
  for (auto& rx : rx_) round.frames += forward_received(*rx, returns_);
  port_->kick();
  round.other = port_->exchange();
  umem_.recycle(returns_);
  returns_.clear();
  return round;
}

unsigned VmQueuePath::forward_received(XskRxSocket& rx, std::vector<std::uint64_t>& returns) {
  std::uint32_t rx_index = 0;
  const std::uint32_t n = xsk_ring_cons__peek(&rx.ring(), kRxBatch, &rx_index);
  if (n == 0) return 0;
  umem_.note_taken(n);
  received_.fetch_add(n, std::memory_order_relaxed);

  const std::uint32_t in_flight = port_->in_flight();
  const std::uint32_t quota_left = quota_ > in_flight ? quota_ - in_flight : 0;
  const std::uint32_t wanted = std::min(n, quota_left);
  for (std::uint32_t i = 0; i < wanted; ++i) {
    const xdp_desc* desc = xsk_ring_cons__rx_desc(&rx.ring(), rx_index + i);
    batch_[i] = {desc->addr, desc->len};
  }
  const std::uint32_t sent = wanted > 0 ? port_->transmit(std::span(batch_.data(), wanted)) : 0;
  for (std::uint32_t i = sent; i < n; ++i) returns.push_back(xsk_ring_cons__rx_desc(&rx.ring(), rx_index + i)->addr);
  xsk_ring_cons__release(&rx.ring(), n);
  dropped_quota_.fetch_add(n - wanted, std::memory_order_relaxed);
  dropped_port_full_.fetch_add(wanted - sent, std::memory_order_relaxed);
  return n;
}

bool VmQueuePath::empty() const {
  for (const auto& rx : rx_)
    if (ring_entries(rx->ring().producer, rx->ring().consumer) > 0) return false;
  return port_->in_flight() == 0;
}

void VmQueuePath::reclaim() {
  std::vector<std::uint64_t> returns;
  if (port_) port_->reclaim(returns);
  for (auto& rx : rx_) {
    xsk_ring_cons& ring = rx->ring();
    std::uint32_t index = 0;
    const std::uint32_t n = xsk_ring_cons__peek(&ring, ring.size, &index);
    for (std::uint32_t i = 0; i < n; ++i) returns.push_back(xsk_ring_cons__rx_desc(&ring, index + i)->addr);
    if (n > 0) {
      xsk_ring_cons__release(&ring, n);
      umem_.note_taken(n);
    }
  }
  umem_.recycle(returns);
}

QueueStats VmQueuePath::stats() const {
  const PortCounters port = port_->counters();
  QueueStats s;
  s.received = received_.load(std::memory_order_relaxed);
  s.delivered = {port.delivered_packets, port.delivered_bytes};
  s.checksum_completed = port.checksum_completed;
  s.dropped_port_full = dropped_port_full_.load(std::memory_order_relaxed);
  s.dropped_quota = dropped_quota_.load(std::memory_order_relaxed);
  s.dropped_port_refused = port.refused;
  s.port_errors = port.errors;
  s.in_flight = port_->in_flight();
  s.worker_tid = worker_tid_.load(std::memory_order_relaxed);
  for (const auto& rx : rx_) {
    auto x = xsk_statistics(rx->fd());
    if (!x) continue;
    s.xsk_rx_dropped += x->rx_dropped;
    s.xsk_rx_invalid_descs += x->rx_invalid_descs;
    s.xsk_rx_ring_full += x->rx_ring_full;
    s.xsk_rx_fill_ring_empty += x->rx_fill_ring_empty_descs;
  }
  s.xsk_tx_invalid_descs = port.invalid_descs;
  if (port.has_leg) s.leg = LegStats{port.leg_to_guest, port.leg_to_guest_refused, port.leg_from_guest};
  return s;
}

}  // namespace vmq::os
