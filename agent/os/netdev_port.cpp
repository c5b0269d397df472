#include "os/netdev_port.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include <fmt/format.h>

#include "core/deferred_checksum.h"
#include "os/xsk_statistics.h"

namespace vmq::os {
namespace {

constexpr auto kRetryInterval = std::chrono::milliseconds(5);
constexpr std::uint32_t kCompletionBatch = 256;
// A frame's TX note: its length, and this bit once the port refused it.
constexpr std::uint16_t kRefusedByPort = 0x8000;
static_assert(kMaxFrameLen < kRefusedByPort);

std::uint32_t ring_entries(const std::uint32_t* producer, const std::uint32_t* consumer) {
  return __atomic_load_n(producer, __ATOMIC_ACQUIRE) - __atomic_load_n(consumer, __ATOMIC_ACQUIRE);
}

}  // namespace

Result<std::unique_ptr<NetdevPort>> NetdevPort::open(UplinkUmem& umem, const std::string& device,
                                                     unsigned device_queue, std::uint32_t frames) {
  std::unique_ptr<NetdevPort> port(new NetdevPort(umem));
  if (auto ok = port->bind(device, device_queue, frames); !ok) return std::unexpected(ok.error());
  return port;
}

Result<void> NetdevPort::bind(const std::string& device, unsigned device_queue, std::uint32_t frames) {
  xsk_socket_config config{};
  config.tx_size = frames;
  config.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
  // EBUSY: the kernel still releases the buffer pool of the port's previous
  // socket (from a workqueue, a few milliseconds after a queue on this port
  // was freed); the caller tries again (QueueControl::start_queue).
  const int err = xsk_socket__create_shared(&socket_, device.c_str(), device_queue, umem_.umem(), nullptr, &tx_,
                                            &fill_, &completion_, &config);
  if (err == -EINVAL && device_queue > 0)
    return fail_errno(-err, fmt::format("creating the AF_XDP transmit socket on queue {} of port {}: a queue with "
                                        "sub-queues needs a port with as many queues (a multi-queue tap: QEMU's "
                                        "queues=N)",
                                        device_queue, device));
  if (err) return fail_errno(-err, fmt::format("creating the AF_XDP transmit socket on port {}", device));
  return {};
}

NetdevPort::~NetdevPort() {
  if (socket_) xsk_socket__delete(socket_);
}

std::uint32_t NetdevPort::transmit(std::span<const UmemFrame> batch) {
  const auto wanted = static_cast<std::uint32_t>(batch.size());
  std::uint32_t index = 0;
  const std::uint32_t room = std::min(wanted, xsk_prod_nb_free(&tx_, wanted));
  const std::uint32_t sent = room > 0 ? xsk_ring_prod__reserve(&tx_, room, &index) : 0;
  for (std::uint32_t i = 0; i < sent; ++i) {
    const UmemFrame& frame = batch[i];
    complete_deferred_checksum(frame);
    xdp_desc* out = xsk_ring_prod__tx_desc(&tx_, index + i);
    out->addr = frame.addr;
    out->len = frame.len;
    out->options = 0;
    umem_.tx_note(frame.addr) = static_cast<std::uint16_t>(frame.len);
  }
  if (sent > 0) {
    xsk_ring_prod__submit(&tx_, sent);
    in_flight_.fetch_add(sent, std::memory_order_relaxed);
    umem_.note_in_flight(sent);
  }
  return sent;
}

void NetdevPort::complete_deferred_checksum(const UmemFrame& frame) {
  const std::span<std::uint8_t> bytes(umem_.data(frame.addr), frame.len);
  if (auto deferred = find_deferred_checksum(bytes)) {
    complete_checksum(bytes, *deferred);
    checksum_completed_.fetch_add(1, std::memory_order_relaxed);
  }
}

void NetdevPort::kick() {
  if (ring_entries(tx_.producer, tx_.consumer) > 0) send_queued();
}

void NetdevPort::send_queued() {
  const auto now = std::chrono::steady_clock::now();
  if (now < retry_at_) return;
  const std::uint32_t consumer_before = tx_consumer();
  if (static_cast<std::int32_t>(consumer_before - kernel_tx_position_) > 0) kernel_tx_position_ = consumer_before;
  // Copy-mode transmit happens inside this call, a batch at a time.
  const bool sent = sendto(xsk_socket__fd(socket_), nullptr, 0, MSG_DONTWAIT, nullptr, 0) >= 0;
  const int err = sent ? 0 : errno;
  const std::uint32_t consumer_after = tx_consumer();
  if (consumer_after != consumer_before) kernel_tx_position_ = consumer_after;
  if (sent) return;
  if (err == EBUSY) {
    note_refused(consumer_before, consumer_after);
    return;
  }
  if (err == EAGAIN || err == ENOBUFS || err == EINTR) return;  // try again next round
  // The device is down or gone: its frames wait in the TX ring (within the
  // queue's quota) and new ones are dropped, without a system call per round.
  errors_.fetch_add(1, std::memory_order_relaxed);
  retry_at_ = now + kRetryInterval;
}

// EBUSY: the device dropped the last frame the kernel took (NET_XMIT_DROP:
// no carrier, the receiver's backlog full), and that call stopped there. Its
// completion still comes; the note makes it count as refused, not delivered.
void NetdevPort::note_refused(std::uint32_t consumer_before, std::uint32_t consumer_after) {
  // If the call sent frames before the drop it published the consumer index
  // past the dropped frame; if the drop was its first frame it published
  // nothing, and the frame is the next one after what the kernel had taken.
  const std::uint32_t dropped = consumer_after != consumer_before ? consumer_after - 1 : kernel_tx_position_++;
  umem_.tx_note(xsk_ring_prod__tx_desc(&tx_, dropped)->addr) |= kRefusedByPort;
}

unsigned NetdevPort::reap(std::vector<std::uint64_t>& done) {
  std::uint32_t index = 0;
  const std::uint32_t n = xsk_ring_cons__peek(&completion_, kCompletionBatch, &index);
  if (n == 0) return 0;
  std::uint64_t delivered = 0, bytes = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint64_t addr = *xsk_ring_cons__comp_addr(&completion_, index + i);
    const std::uint16_t note = umem_.tx_note(addr);
    if (!(note & kRefusedByPort)) {
      ++delivered;
      bytes += note;
    }
    done.push_back(addr);
  }
  xsk_ring_cons__release(&completion_, n);
  delivered_packets_.fetch_add(delivered, std::memory_order_relaxed);
  delivered_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  refused_.fetch_add(n - delivered, std::memory_order_relaxed);
  in_flight_.fetch_sub(n, std::memory_order_relaxed);
  umem_.note_in_flight(-static_cast<std::int64_t>(n));
  return n;
}

std::uint32_t NetdevPort::in_flight() const {
  return static_cast<std::uint32_t>(std::max<std::int64_t>(0, in_flight_.load(std::memory_order_relaxed)));
}

void NetdevPort::reclaim(std::vector<std::uint64_t>& done) {
  reap(done);
  // Descriptors the kernel never took from the TX ring are still ours; those
  // it took and dropped without publishing have come back as completions.
  std::uint32_t consumer = tx_consumer();
  if (static_cast<std::int32_t>(kernel_tx_position_ - consumer) > 0) consumer = kernel_tx_position_;
  const std::uint32_t producer = *tx_.producer;
  for (std::uint32_t i = consumer; i != producer; ++i) done.push_back(xsk_ring_prod__tx_desc(&tx_, i)->addr);
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
}

PortCounters NetdevPort::counters() const {
  PortCounters c;
  c.delivered_packets = delivered_packets_.load(std::memory_order_relaxed);
  c.delivered_bytes = delivered_bytes_.load(std::memory_order_relaxed);
  c.refused = refused_.load(std::memory_order_relaxed);
  c.errors = errors_.load(std::memory_order_relaxed);
  c.checksum_completed = checksum_completed_.load(std::memory_order_relaxed);
  if (auto x = xsk_statistics(xsk_socket__fd(socket_))) c.invalid_descs = x->tx_invalid_descs;
  return c;
}

}  // namespace vmq::os
