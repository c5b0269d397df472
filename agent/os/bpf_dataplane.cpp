#include "os/bpf_dataplane.h"

#include <utility>

#include <fmt/format.h>

#include "os/abi_conversions.h"
#include "os/bpffs.h"
#include "os/netdev.h"

namespace vmq::os {

Result<std::unique_ptr<BpfDataplane>> BpfDataplane::create(const DataplaneConfig& config, LogSink log) {
  std::unique_ptr<BpfDataplane> dataplane(new BpfDataplane(std::move(log)));
  auto mounted = ensure_bpffs();
  if (!mounted)
    dataplane->log_(LogLevel::warning, fmt::format("{}: libxdp's dispatcher cannot be used", mounted.error().message));
  else if (*mounted)
    dataplane->log_(LogLevel::info, "mounted bpffs on /sys/fs/bpf");
  const UplinkSettings settings{config.umem_frames_per_rxq, config.attach_policy, config.max_queues,
                                config.max_filters};
  for (const auto& name : config.uplinks) {
    auto uplink = UplinkRuntime::attach(name, settings, dataplane->log_);
    if (!uplink) return std::unexpected(uplink.error());
    dataplane->uplinks_.push_back(std::move(*uplink));
  }
  return dataplane;
}

BpfDataplane::~BpfDataplane() {
  // Workers first (they touch the queues), then the queues (their sockets),
  // then the uplinks (UMEM, then the XDP attachment, then the program).
  for (auto& [id, q] : queues_) q.uplink->disconnect_queue(id);
  workers_.stop();
  queues_.clear();
  uplinks_.clear();
}

Result<UplinkRuntime*> BpfDataplane::find_uplink(std::string_view name) const {
  for (const auto& u : uplinks_)
    if (u->name() == name) return u.get();
  return fail(Errc::not_found, fmt::format("uplink {} is not managed by vmqd", name));
}

std::vector<std::string> BpfDataplane::uplink_names() const {
  std::vector<std::string> out;
  for (const auto& u : uplinks_) out.push_back(u->name());
  return out;
}

std::vector<UplinkInfo> BpfDataplane::uplinks() const {
  std::vector<UplinkInfo> out;
  for (const auto& u : uplinks_) out.push_back(u->info());
  return out;
}

Result<void> BpfDataplane::check_port(std::string_view port) const {
  auto index = ifindex_of(std::string(port));
  if (!index) return fail(index.error().code, fmt::format("port {}: {}", port, index.error().message));
  return {};
}

Result<void> BpfDataplane::start_queue(const QueueSpec& spec) {
  auto uplink = find_uplink(spec.uplink);
  if (!uplink) return std::unexpected(uplink.error());
  if (queues_.contains(spec.id)) return fail(Errc::conflict, fmt::format("queue {} is already started", spec.id));
  auto path = VmQueuePath::open((*uplink)->umem(), spec);
  if (!path) return std::unexpected(path.error());
  if (auto ok = (*uplink)->connect_queue(spec.id, **path); !ok) return ok;
  if (auto ok = workers_.add(spec.id, **path, spec.cpu); !ok) {
    (*uplink)->disconnect_queue(spec.id);
    return ok;
  }
  queues_.emplace(spec.id, QueueRuntime{spec, *uplink, std::move(*path), QueueRuntime::Pending::start});
  return {};
}

Result<void> BpfDataplane::publish_queue_state(const QueueSpec& spec, QueueState state) {
  auto uplink = find_uplink(spec.uplink);
  if (!uplink) return std::unexpected(uplink.error());
  return (*uplink)->publish_queue(spec.id, spec.vlan_mode, to_abi(state));
}

Result<void> BpfDataplane::install_filter(std::string_view uplink_name, const FilterMatch& match, QueueId queue,
                                          FilterId filter) {
  auto uplink = find_uplink(uplink_name);
  if (!uplink) return std::unexpected(uplink.error());
  return (*uplink)->install_filter(match, queue, filter);
}

Result<void> BpfDataplane::remove_filter(std::string_view uplink_name, const FilterMatch& match) {
  auto uplink = find_uplink(uplink_name);
  if (!uplink) return std::unexpected(uplink.error());
  return (*uplink)->remove_filter(match);
}

Result<void> BpfDataplane::move_queue(QueueId id, unsigned cpu) {
  auto it = queues_.find(id);
  if (it == queues_.end()) return fail(Errc::not_found, fmt::format("queue {} is not started", id));
  QueueRuntime& q = it->second;
  if (q.pending != QueueRuntime::Pending::none)
    return fail(Errc::conflict, fmt::format("queue {}: its worker has not answered the last change", id));
  if (auto ok = workers_.move(id, *q.path, q.spec.cpu, cpu); !ok) return ok;
  q.pending = QueueRuntime::Pending::move;
  q.move_to = cpu;
  return {};
}

Result<bool> BpfDataplane::change_settled(QueueId id) {
  auto it = queues_.find(id);
  auto settled = workers_.settled(id);
  if (it == queues_.end()) {  // a stop never fails
    if (!settled) {
      log_(LogLevel::error, fmt::format("queue {}: {}; its sockets close once the worker lets go of it", id,
                                        settled.error().message));
      return true;
    }
    return *settled;
  }
  if (settled && !*settled) return false;
  QueueRuntime& q = it->second;
  const auto pending = std::exchange(q.pending, QueueRuntime::Pending::none);
  if (!settled && pending == QueueRuntime::Pending::start) {  // no worker ever saw it: undone
    q.uplink->disconnect_queue(id);
    queues_.erase(it);
  }
  if (settled && pending == QueueRuntime::Pending::move) q.spec.cpu = q.move_to;
  return settled;
}

Result<DrainProbe> BpfDataplane::drain_probe(QueueId id) {
  auto it = queues_.find(id);
  if (it == queues_.end()) return DrainProbe{};
  const VmQueuePath& path = *it->second.path;
  const bool empty = path.empty();
  const std::uint64_t delivered = path.delivered_packets();
  auto stats = queue_stats(id);
  if (!stats) return std::unexpected(stats.error());
  return DrainProbe{empty, delivered, *stats};
}

void BpfDataplane::stop_queue(QueueId id) {
  auto it = queues_.find(id);
  if (it == queues_.end()) return;
  QueueRuntime q = std::move(it->second);
  queues_.erase(it);
  q.uplink->disconnect_queue(id);
  workers_.retire(id, std::move(q.path), q.spec.cpu);
}

Result<QueueStats> BpfDataplane::queue_stats(QueueId id) const {
  auto it = queues_.find(id);
  if (it == queues_.end()) return QueueStats{};
  QueueStats stats = it->second.path->stats();
  auto classified = it->second.uplink->queue_traffic(id);
  if (!classified) return std::unexpected(classified.error());
  stats.classified = *classified;
  return stats;
}

Result<std::uint64_t> BpfDataplane::filter_hits(std::string_view uplink, FilterId filter) const {
  auto u = find_uplink(uplink);
  if (!u) return std::unexpected(u.error());
  return (*u)->filter_hits(filter);
}

Result<DefaultQueueStats> BpfDataplane::default_queue_stats(std::string_view uplink) const {
  auto u = find_uplink(uplink);
  if (!u) return std::unexpected(u.error());
  return (*u)->default_queue_stats();
}

Result<UmemStats> BpfDataplane::umem_stats(std::string_view uplink) const {
  auto u = find_uplink(uplink);
  if (!u) return std::unexpected(u.error());
  return (*u)->umem_stats();
}

Result<ClassifierTables> BpfDataplane::classifier_tables(std::string_view uplink) const {
  auto u = find_uplink(uplink);
  if (!u) return std::unexpected(u.error());
  return (*u)->classifier_tables();
}

Result<TraceVerdict> BpfDataplane::trace(std::string_view uplink, std::span<const std::uint8_t> frame,
                                         std::uint32_t rxq) {
  auto u = find_uplink(uplink);
  if (!u) return std::unexpected(u.error());
  return (*u)->trace(frame, rxq);
}

std::vector<WorkerSample> BpfDataplane::worker_samples() const { return workers_.samples(); }

std::vector<UplinkInfo> BpfDataplane::check_attachments() {
  for (QueueId id : workers_.retry_stranded())
    log_(LogLevel::notice, fmt::format("queue {}: its worker let go of it; sockets closed", id));
  std::vector<UplinkInfo> changed;
  for (auto& u : uplinks_)
    if (u->check_attachment()) changed.push_back(u->info());
  return changed;
}

}  // namespace vmq::os
