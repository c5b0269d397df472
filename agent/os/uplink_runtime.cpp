#include "os/uplink_runtime.h"

#include <linux/bpf.h>

#include <fmt/format.h>

#include "os/abi_conversions.h"
#include "os/netdev.h"
#include "os/vm_queue_path.h"

namespace vmq::os {
namespace {

constexpr unsigned kStandardMtu = 1500;  // Ethernet's ETH_DATA_LEN

// The classifier and the UMEM are sized for the rx queues the uplink had at
// start (ethtool -L changes them): frames arriving on a queue beyond them find
// no socket and go to the default queue.
std::string rx_queue_problem(const std::string& uplink, unsigned loaded_for) {
  auto now = rx_queue_count(uplink);
  if (!now || *now == loaded_for) return {};
  return fmt::format("the uplink has {} rx queues now, vmq was set up for {} (ethtool -L?): {}; restart vmqd to "
                     "follow the change",
                     *now, loaded_for,
                     *now > loaded_for ? fmt::format("frames on rx queues {} to {} go to the default queue",
                                                     loaded_for, *now - 1)
                                       : std::string("queues keep working on the rx queues that remain"));
}

}  // namespace

Result<std::unique_ptr<UplinkRuntime>> UplinkRuntime::attach(const std::string& name, const UplinkSettings& settings,
                                                             const LogSink& log) {
  auto ifindex = ifindex_of(name);
  if (!ifindex) return fail(ifindex.error().code, fmt::format("uplink {}: {}", name, ifindex.error().message));
  auto rxqs = rx_queue_count(name);
  if (!rxqs) return std::unexpected(rxqs.error());
  auto mtu = mtu_of(name);
  if (!mtu) return std::unexpected(mtu.error());
  std::unique_ptr<UplinkRuntime> uplink(new UplinkRuntime(name, *ifindex, *rxqs, *mtu));
  if (auto ok = uplink->attach_classifier(settings, log); !ok) return std::unexpected(ok.error());
  auto umem = UplinkUmem::create(name, uplink->rx_queues_, settings.umem_frames_per_rxq);
  if (!umem) return std::unexpected(umem.error());
  uplink->umem_ = std::move(*umem);
  log(LogLevel::info, fmt::format("uplink {}: classifier attached ({}, {} mode, program {}, {}-buffer frames "
                                  "at MTU {}), {} rx queue(s), {} UMEM frames",
                                  name, uplink->attachment_->method(), uplink->attachment_->mode(),
                                  uplink->attachment_->program_id(),
                                  uplink->classifier_->limits().multi_buffer ? "multi" : "single", *mtu,
                                  uplink->rx_queues_, uplink->umem_->frames_per_rxq() * uplink->rx_queues_));
  return uplink;
}

UplinkRuntime::~UplinkRuntime() = default;

// At the standard MTU every frame fits one buffer: the single-buffer build
// is the faster one. Above it, frames may span several buffers (jumbo
// uplinks), and so they may where a device refuses a program without
// multi-buffer support (a veth whose peer has a larger MTU, a NIC that
// splits headers from data): the multi-buffer build is used there.
Result<void> UplinkRuntime::attach_classifier(const UplinkSettings& settings, const LogSink& log) {
  bool multi_buffer = mtu_ > kStandardMtu;
  if (!multi_buffer) {
    if (auto single = attach_build(settings, log, false, false); !single) {
      if (single.error().code == Errc::conflict) return std::unexpected(single.error());  // not ours to take
      log(LogLevel::notice, fmt::format("uplink {}: the single-buffer classifier does not attach natively ({}); "
                                        "using the multi-buffer build",
                                        name_, single.error().message));
      multi_buffer = true;
    }
  }
  if (multi_buffer) return attach_build(settings, log, true, true);
  return {};
}

Result<void> UplinkRuntime::attach_build(const UplinkSettings& settings, const LogSink& log, bool multi_buffer,
                                         bool generic_fallback) {
  ClassifierLimits limits{settings.max_queues + 1, settings.max_filters, rx_queues_, kMaxFrameLen, multi_buffer};
  limits.sub_queue_slots = settings.max_sub_queues;
  attachment_.reset();
  auto classifier = Classifier::open(limits);
  if (!classifier) return std::unexpected(classifier.error());
  classifier_.emplace(std::move(*classifier));
  auto attachment = XdpAttachment::attach(*classifier_, name_, settings.attach_policy, log, generic_fallback);
  if (!attachment) return std::unexpected(attachment.error());
  attachment_.emplace(std::move(*attachment));
  return {};
}

UplinkInfo UplinkRuntime::info() const {
  return UplinkInfo{name_,
                    rx_queues_,
                    attachment_->mode(),
                    attachment_->method(),
                    attachment_->program_id(),
                    !degraded_.empty(),
                    degraded_,
                    kMaxFrameLen,
                    mtu_,
                    classifier_->limits().multi_buffer};
}

Result<void> UplinkRuntime::reset_queue_traffic(QueueId queue) { return classifier_->reset_queue_traffic(queue); }

std::uint32_t UplinkRuntime::max_sub_queues() const { return classifier_->limits().sub_queue_slots; }

Result<void> UplinkRuntime::connect_sub_queue(QueueId queue, unsigned sub_queue, const VmQueuePath& path) {
  if (sub_queue >= max_sub_queues())
    return fail(Errc::invalid_argument, fmt::format("uplink {} was loaded for at most {} sub-queues per queue (one "
                                                    "per allowed CPU); restart vmqd after changing cpus",
                                                    name_, max_sub_queues()));
  for (unsigned r = 0; r < rx_queues_; ++r) {
    if (auto ok = classifier_->put_socket(classifier_->socket_slot(queue, sub_queue, r), path.rx_socket_fd(r)); !ok) {
      disconnect_sub_queue(queue, sub_queue);
      return ok;
    }
  }
  return {};
}

void UplinkRuntime::disconnect_sub_queue(QueueId queue, unsigned sub_queue) {
  if (sub_queue >= max_sub_queues()) return;
  for (unsigned r = 0; r < rx_queues_; ++r)
    (void)classifier_->delete_socket(classifier_->socket_slot(queue, sub_queue, r));
}

Result<void> UplinkRuntime::publish_queue(QueueId queue, VlanMode vlan_mode, vmq_queue_state state,
                                          unsigned sub_queues) {
  const vmq_queue_entry entry{static_cast<std::uint32_t>(state),
                              vlan_mode == VlanMode::access ? std::uint32_t{VMQ_VLAN_MODE_ACCESS}
                                                            : std::uint32_t{VMQ_VLAN_MODE_TRUNK},
                              sub_queues, 0};
  return classifier_->put_queue(queue, entry);
}

Result<void> UplinkRuntime::install_filter(const FilterMatch& match, QueueId queue, FilterId filter) {
  if (auto ok = classifier_->reset_filter_hits(filter); !ok) return ok;
  return classifier_->put_filter(match.key(), vmq_filter_value{queue, filter});
}

Result<void> UplinkRuntime::remove_filter(const FilterMatch& match) { return classifier_->delete_filter(match.key()); }

Result<Traffic> UplinkRuntime::queue_traffic(QueueId queue) const {
  auto traffic = classifier_->queue_traffic(queue);
  if (!traffic) return std::unexpected(traffic.error());
  return Traffic{traffic->packets, traffic->bytes};
}

Result<std::uint64_t> UplinkRuntime::filter_hits(FilterId filter) const { return classifier_->filter_hits(filter); }

Result<DefaultQueueStats> UplinkRuntime::default_queue_stats() const {
  auto traffic = classifier_->default_traffic();
  if (!traffic) return std::unexpected(traffic.error());
  DefaultQueueStats stats;
  for (std::size_t r = 0; r < traffic->size(); ++r) stats.by_reason[r] = {(*traffic)[r].packets, (*traffic)[r].bytes};
  return stats;
}

Result<ClassifierTables> UplinkRuntime::classifier_tables() const {
  auto entries = classifier_->table_entries();
  if (!entries) return std::unexpected(entries.error());
  return ClassifierTables{entries->filters, entries->queues};
}

Result<TraceVerdict> UplinkRuntime::trace(std::span<const std::uint8_t> frame, std::uint32_t rxq) {
  if (rxq >= rx_queues_)
    return fail(Errc::invalid_argument, fmt::format("uplink {} has {} rx queue(s): rx queue {} does not exist",
                                                    name_, rx_queues_, rxq));
  if (!shadow_) {
    auto shadow = Classifier::load_shadow(*classifier_);
    if (!shadow) return std::unexpected(shadow.error());
    shadow_.emplace(std::move(*shadow));
  }
  auto run = shadow_->trace_run(frame, static_cast<std::uint32_t>(ifindex_), rxq);
  if (!run) return std::unexpected(run.error());
  const vmq_trace_record& record = run->record;
  const auto destination =
      run->action == XDP_REDIRECT ? TraceVerdict::Destination::queue : TraceVerdict::Destination::default_queue;
  return TraceVerdict{destination, default_reason_from_abi(record.reason), record.queue_id, record.filter_id,
                      std::move(run->frame)};
}

bool UplinkRuntime::check_attachment() {
  auto attached = attachment_->check();
  std::string problem = attached ? rx_queue_problem(name_, rx_queues_) : attached.error().message;
  if (problem == degraded_) return false;
  degraded_ = std::move(problem);
  return true;
}

}  // namespace vmq::os
