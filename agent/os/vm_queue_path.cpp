#include "os/vm_queue_path.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include <fmt/format.h>

#include "core/deferred_checksum.h"
#include "os/xsk_statistics.h"

namespace vmq::os {
namespace {

constexpr std::uint32_t kRxBatch = 64;
constexpr auto kPortRetryInterval = std::chrono::milliseconds(5);
constexpr std::uint32_t kCompletionBatch = 256;
// A frame's TX note: its length, and this bit once the port refused it.
constexpr std::uint16_t kRefusedByPort = 0x8000;
static_assert(kMaxFrameLen < kRefusedByPort);

std::uint32_t ring_entries(const std::uint32_t* producer, const std::uint32_t* consumer) {
  return __atomic_load_n(producer, __ATOMIC_ACQUIRE) - __atomic_load_n(consumer, __ATOMIC_ACQUIRE);
}

}  // namespace

Result<std::unique_ptr<VmQueuePath>> VmQueuePath::open(UplinkUmem& umem, const QueueSpec& spec) {
  std::unique_ptr<VmQueuePath> path(new VmQueuePath(umem, spec));
  if (auto ok = path->open_sockets(spec); !ok) return std::unexpected(ok.error());
  return path;
}

Result<void> VmQueuePath::open_sockets(const QueueSpec& spec) {
  for (unsigned r = 0; r < umem_.rx_queues(); ++r) {
    auto socket = XskRxSocket::bind(umem_.ifindex(), r, umem_.anchor_fd(r), spec.frames);
    if (!socket)
      return fail(socket.error().code, fmt::format("{} rx queue {}: {}", umem_.uplink(), r, socket.error().message));
    rx_.push_back(std::move(*socket));
  }
  xsk_socket_config tx_config{};
  tx_config.tx_size = spec.frames;
  tx_config.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
  // EBUSY: the kernel still releases the buffer pool of the port's previous
  // socket (from a workqueue, a few milliseconds after a queue on this port
  // was freed); the caller tries again (QueueControl::start_queue).
  const int err = xsk_socket__create_shared(&port_, spec.port.c_str(), 0, umem_.umem(), nullptr, &tx_, &port_fill_,
                                            &port_completion_, &tx_config);
  if (err) return fail_errno(-err, fmt::format("creating the AF_XDP transmit socket on port {}", spec.port));
  return {};
}

VmQueuePath::~VmQueuePath() {
  if (port_) xsk_socket__delete(port_);
}

int VmQueuePath::rx_socket_fd(unsigned rxq) const { return rx_[rxq]->fd(); }

std::vector<int> VmQueuePath::poll_fds() const {
  std::vector<int> fds;
  for (const auto& rx : rx_) fds.push_back(rx->fd());
  return fds;
}

ServiceRound VmQueuePath::service() {
  ServiceRound round;
  round.completions = take_completions(returns_);
  for (auto& rx : rx_) round.frames += forward_received(*rx, returns_);
  if (ring_entries(tx_.producer, tx_.consumer) > 0) kick_port();
  umem_.recycle(returns_);
  returns_.clear();
  return round;
}

unsigned VmQueuePath::take_completions(std::vector<std::uint64_t>& returns) {
  std::uint32_t index = 0;
  const std::uint32_t n = xsk_ring_cons__peek(&port_completion_, kCompletionBatch, &index);
  if (n == 0) return 0;
  std::uint64_t delivered = 0, bytes = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint64_t addr = *xsk_ring_cons__comp_addr(&port_completion_, index + i);
    const std::uint16_t note = umem_.tx_note(addr);
    if (!(note & kRefusedByPort)) {
      ++delivered;
      bytes += note;
    }
    returns.push_back(addr);
  }
  xsk_ring_cons__release(&port_completion_, n);
  delivered_packets_.fetch_add(delivered, std::memory_order_relaxed);
  delivered_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  dropped_port_refused_.fetch_add(n - delivered, std::memory_order_relaxed);
  in_flight_.fetch_sub(n, std::memory_order_relaxed);
  umem_.note_in_flight(-static_cast<std::int64_t>(n));
  return n;
}

unsigned VmQueuePath::forward_received(XskRxSocket& rx, std::vector<std::uint64_t>& returns) {
  std::uint32_t rx_index = 0;
  const std::uint32_t n = xsk_ring_cons__peek(&rx.ring(), kRxBatch, &rx_index);
  if (n == 0) return 0;
  umem_.note_taken(n);
  received_.fetch_add(n, std::memory_order_relaxed);

  const auto in_flight = static_cast<std::uint32_t>(in_flight_.load(std::memory_order_relaxed));
  const std::uint32_t quota_left = quota_ > in_flight ? quota_ - in_flight : 0;
  const std::uint32_t wanted = std::min(n, quota_left);
  std::uint32_t tx_index = 0;
  const std::uint32_t room = std::min(wanted, xsk_prod_nb_free(&tx_, wanted));
  const std::uint32_t sent = room > 0 ? xsk_ring_prod__reserve(&tx_, room, &tx_index) : 0;

  for (std::uint32_t i = 0; i < n; ++i) {
    const xdp_desc* desc = xsk_ring_cons__rx_desc(&rx.ring(), rx_index + i);
    if (i < sent) {
      complete_deferred_checksum(*desc);
      xdp_desc* out = xsk_ring_prod__tx_desc(&tx_, tx_index + i);
      out->addr = desc->addr;
      out->len = desc->len;
      out->options = 0;
      umem_.tx_note(desc->addr) = static_cast<std::uint16_t>(desc->len);
    } else {
      returns.push_back(desc->addr);
    }
  }
  xsk_ring_cons__release(&rx.ring(), n);
  if (sent > 0) {
    xsk_ring_prod__submit(&tx_, sent);
    in_flight_.fetch_add(sent, std::memory_order_relaxed);
    umem_.note_in_flight(sent);
  }
  dropped_quota_.fetch_add(n - wanted, std::memory_order_relaxed);
  dropped_port_full_.fetch_add(wanted - sent, std::memory_order_relaxed);
  return n;
}

void VmQueuePath::complete_deferred_checksum(const xdp_desc& desc) {
  const std::span<std::uint8_t> frame(umem_.data(desc.addr), desc.len);
  if (auto deferred = find_deferred_checksum(frame)) {
    complete_checksum(frame, *deferred);
    checksum_completed_.fetch_add(1, std::memory_order_relaxed);
  }
}

void VmQueuePath::kick_port() {
  const auto now = std::chrono::steady_clock::now();
  if (now < port_retry_at_) return;
  const std::uint32_t consumer_before = tx_consumer();
  if (static_cast<std::int32_t>(consumer_before - kernel_tx_position_) > 0) kernel_tx_position_ = consumer_before;
  // Copy-mode transmit happens inside this call, a batch at a time.
  const bool sent = sendto(xsk_socket__fd(port_), nullptr, 0, MSG_DONTWAIT, nullptr, 0) >= 0;
  const int err = sent ? 0 : errno;
  const std::uint32_t consumer_after = tx_consumer();
  if (consumer_after != consumer_before) kernel_tx_position_ = consumer_after;
  if (sent) return;
  if (err == EBUSY) {
    note_refused_by_port(consumer_before, consumer_after);
    return;
  }
  if (err == EAGAIN || err == ENOBUFS || err == EINTR) return;  // try again next round
  // The port is down or gone: its frames wait in the TX ring (within the
  // quota) and new ones are dropped, without a system call per round.
  port_errors_.fetch_add(1, std::memory_order_relaxed);
  port_retry_at_ = now + kPortRetryInterval;
}

// EBUSY: the device dropped the last frame the kernel took (NET_XMIT_DROP:
// no carrier, the receiver's backlog full), and that call stopped there. Its
// completion still comes; the note makes it count as refused, not delivered.
void VmQueuePath::note_refused_by_port(std::uint32_t consumer_before, std::uint32_t consumer_after) {
  // If the call sent frames before the drop it published the consumer index
  // past the dropped frame; if the drop was its first frame it published
  // nothing, and the frame is the next one after what the kernel had taken.
  const std::uint32_t dropped = consumer_after != consumer_before ? consumer_after - 1 : kernel_tx_position_++;
  umem_.tx_note(xsk_ring_prod__tx_desc(&tx_, dropped)->addr) |= kRefusedByPort;
}

bool VmQueuePath::empty() const {
  for (const auto& rx : rx_)
    if (ring_entries(rx->ring().producer, rx->ring().consumer) > 0) return false;
  return in_flight_.load(std::memory_order_relaxed) == 0;
}

void VmQueuePath::reclaim() {
  std::vector<std::uint64_t> returns;
  take_completions(returns);
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
  // Descriptors the kernel never took from the TX ring are still ours; those
  // it took and dropped without publishing have come back as completions.
  std::uint32_t consumer = tx_consumer();
  if (static_cast<std::int32_t>(kernel_tx_position_ - consumer) > 0) consumer = kernel_tx_position_;
  const std::uint32_t producer = *tx_.producer;
  for (std::uint32_t i = consumer; i != producer; ++i) returns.push_back(xsk_ring_prod__tx_desc(&tx_, i)->addr);
  const std::uint32_t unsent = producer - consumer;
  if (unsent > 0) {
    // Rewind the ring so that closing it cannot hand them out twice.
    __atomic_store_n(tx_.producer, consumer, __ATOMIC_RELEASE);
    tx_.cached_prod = consumer;
    in_flight_.fetch_sub(unsent, std::memory_order_relaxed);
    umem_.note_in_flight(-static_cast<std::int64_t>(unsent));
  }
  // What the kernel took but has not completed cannot come back once the
  // socket closes.
  const std::int64_t stuck = in_flight_.exchange(0, std::memory_order_relaxed);
  if (stuck > 0) {
    umem_.note_in_flight(-stuck);
    umem_.note_lost(static_cast<std::uint64_t>(stuck));
  }
  umem_.recycle(returns);
}

QueueStats VmQueuePath::stats() const {
  QueueStats s;
  s.received = received_.load(std::memory_order_relaxed);
  s.delivered = {delivered_packets_.load(std::memory_order_relaxed), delivered_bytes_.load(std::memory_order_relaxed)};
  s.checksum_completed = checksum_completed_.load(std::memory_order_relaxed);
  s.dropped_port_full = dropped_port_full_.load(std::memory_order_relaxed);
  s.dropped_quota = dropped_quota_.load(std::memory_order_relaxed);
  s.dropped_port_refused = dropped_port_refused_.load(std::memory_order_relaxed);
  s.port_errors = port_errors_.load(std::memory_order_relaxed);
  s.in_flight = static_cast<std::uint64_t>(std::max<std::int64_t>(0, in_flight_.load(std::memory_order_relaxed)));
  s.worker_tid = worker_tid_.load(std::memory_order_relaxed);
  for (const auto& rx : rx_) {
    auto x = xsk_statistics(rx->fd());
    if (!x) continue;
    s.xsk_rx_dropped += x->rx_dropped;
    s.xsk_rx_invalid_descs += x->rx_invalid_descs;
    s.xsk_rx_ring_full += x->rx_ring_full;
    s.xsk_rx_fill_ring_empty += x->rx_fill_ring_empty_descs;
  }
  if (auto x = xsk_statistics(xsk_socket__fd(port_))) s.xsk_tx_invalid_descs = x->tx_invalid_descs;
  return s;
}

}  // namespace vmq::os
