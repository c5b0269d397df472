#include "vmq_receiver.h"

#include <fmt/format.h>

#include <algorithm>

#include "raw_receiver.h"

namespace vmq::bench {
namespace {

constexpr std::uint32_t kRxBatch = 64;  // what VmQueuePath takes from one RX ring per round
constexpr std::uint32_t kRxQueue = 0;   // a veth receives XDP_TX frames on rx queue 0
constexpr std::uint32_t kMaxFilters = 1024;

void ignore_library_log(LogLevel, std::string_view) {}

}  // namespace

Result<std::unique_ptr<VmqReceiver>> VmqReceiver::create(const VmqReceiverConfig& config) {
  std::unique_ptr<VmqReceiver> receiver(new VmqReceiver(config));
  if (auto ok = receiver->open(); !ok) return std::unexpected(ok.error());
  return receiver;
}

Result<void> VmqReceiver::open() {
  // Queue ids 1..N as vmqd numbers them; 0 is the default queue.
  const auto queues = static_cast<std::uint32_t>(config_.flows.size());
  // The build vmqd loads on a standard-MTU uplink such as these veths.
  const os::ClassifierLimits limits{queues + 1, kMaxFilters, 1, os::kMaxFrameLen, false};
  auto classifier = os::Classifier::open(limits);
  if (!classifier) return std::unexpected(classifier.error());
  classifier_.emplace(std::move(*classifier));
  auto attachment = os::XdpAttachment::attach(*classifier_, config_.device, AttachPolicy::automatic,
                                              ignore_library_log);
  if (!attachment) return std::unexpected(attachment.error());
  attachment_.emplace(std::move(*attachment));
  auto umem = os::UplinkUmem::create(config_.device, 1, config_.umem_frames);
  if (!umem) return std::unexpected(umem.error());
  umem_ = std::move(*umem);
  for (std::uint32_t q = 0; q < queues; ++q)
    if (auto ok = add_queue(q + 1, config_.flows[q]); !ok) return ok;
  return {};
}

Result<void> VmqReceiver::add_queue(std::uint32_t queue_id, const Flow& flow) {
  auto socket = os::XskRxSocket::bind(umem_->ifindex(), kRxQueue, umem_->anchor_fd(kRxQueue), config_.queue_frames);
  if (!socket) return std::unexpected(socket.error());
  if (auto ok = classifier_->put_socket(classifier_->socket_slot(queue_id, kRxQueue), (*socket)->fd()); !ok) return ok;
  sockets_.push_back(std::move(*socket));
  if (auto ok = classifier_->put_queue(queue_id, {static_cast<std::uint32_t>(VMQ_QUEUE_RUNNING), static_cast<std::uint32_t>(VMQ_VLAN_MODE_TRUNK), 1, 0}); !ok) return ok;
  vmq_filter_key key{};
  std::copy(flow.mac.bytes().begin(), flow.mac.bytes().end(), key.mac);
  key.vlan = flow.vlan;
  return classifier_->put_filter(key, {queue_id, queue_id});
}

VmqReceiver::~VmqReceiver() {
  consumer_.stop();
  // Sockets before the UMEM they share, the UMEM before the attachment.
  sockets_.clear();
  umem_.reset();
  attachment_.reset();
}

std::string VmqReceiver::label() const {
  return fmt::format("vmq: classifier ({}), {} queues on one shared UMEM, count + recycle", attach_method(),
                     config_.flows.size());
}

Result<void> VmqReceiver::start(unsigned cpu) {
  return consumer_.start(cpu, [this] { return recycle_received(); });
}

unsigned VmqReceiver::recycle_received() {
  unsigned total = 0;
  for (auto& socket : sockets_) {
    xsk_ring_cons& ring = socket->ring();
    std::uint32_t index = 0;
    const std::uint32_t n = xsk_ring_cons__peek(&ring, kRxBatch, &index);
    if (n == 0) continue;
    for (std::uint32_t i = 0; i < n; ++i) returns_.push_back(xsk_ring_cons__rx_desc(&ring, index + i)->addr);
    xsk_ring_cons__release(&ring, n);
    umem_->note_taken(n);
    umem_->recycle(returns_);
    returns_.clear();
    total += n;
  }
  return total;
}

Result<nlohmann::json> VmqReceiver::counters() const {
  nlohmann::json xsk = nlohmann::json::object();
  for (const auto& socket : sockets_) {
    auto stats = xdp_statistics_of(socket->fd());
    if (!stats) return std::unexpected(stats.error());
    for (const auto& [name, value] : stats->items()) {
      const std::uint64_t mine = value.get<std::uint64_t>(), so_far = xsk.value(name, std::uint64_t{0});
      // Every socket reports the count of the fill ring they share: once.
      xsk[name] = name == "rx_fill_ring_empty_descs" ? std::max(mine, so_far) : so_far + mine;
    }
  }
  std::uint64_t classified = 0;
  for (std::uint32_t q = 1; q <= sockets_.size(); ++q) classified += classifier_->queue_traffic(q).value_or(vmq_traffic{}).packets;
  std::uint64_t default_queue = 0;
  if (auto traffic = classifier_->default_traffic())
    for (const auto& t : *traffic) default_queue += t.packets;
  const UmemStats umem = umem_->stats();
  return nlohmann::json{{"xsk", xsk},
          {"classified", classified},
          {"default_queue", default_queue},
          {"umem_frames_lost", umem.frames_lost}};
}

}  // namespace vmq::bench
