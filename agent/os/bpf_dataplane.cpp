#include "os/bpf_dataplane.h"

#include <utility>

#include <fmt/format.h>

#include "os/abi_conversions.h"
#include "os/bpffs.h"
#include "os/netdev.h"
#include "vhost/socket_path.h"

namespace vmq::os {

Result<std::unique_ptr<BpfDataplane>> BpfDataplane::create(const DataplaneConfig& config, LogSink log) {
  std::unique_ptr<BpfDataplane> dataplane(new BpfDataplane(config.vhost_user, std::move(log)));
  auto mounted = ensure_bpffs();
  if (!mounted)
    dataplane->log_(LogLevel::warning, fmt::format("{}: libxdp's dispatcher cannot be used", mounted.error().message));
  else if (*mounted)
    dataplane->log_(LogLevel::info, "mounted bpffs on /sys/fs/bpf");
  const UplinkSettings settings{config.umem_frames_per_rxq, config.attach_policy, config.max_queues,
                                config.max_filters, config.max_sub_queues};
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
  for (auto& [id, q] : queues_) disconnect(q);
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

Result<void> BpfDataplane::check_port(PortKind kind, std::string_view port) const {
  if (kind == PortKind::vhost_user) return vhost::check_listen_path(std::string(port));
  auto index = ifindex_of(std::string(port));
  if (!index) return fail(index.error().code, fmt::format("port {}: {}", port, index.error().message));
  return {};
}

Result<void> BpfDataplane::start_queue(const QueueSpec& spec) {
  auto uplink = find_uplink(spec.uplink);
  if (!uplink) return std::unexpected(uplink.error());
  if (queues_.contains(spec.id)) return fail(Errc::conflict, fmt::format("queue {} is already started", spec.id));
  if (spec.sub_queues() > (*uplink)->max_sub_queues())
    return fail(Errc::invalid_argument,
                fmt::format("queue {}: {} sub-queues, but uplink {} was set up for at most {} (one per allowed CPU "
                            "when vmqd started)",
                            spec.id, spec.sub_queues(), spec.uplink, (*uplink)->max_sub_queues()));
  QueueRuntime q{spec, *uplink, {}};
  const std::vector<unsigned> cpus = spec.cpus();
  for (unsigned i = 0; i < cpus.size(); ++i) {
    auto path = VmQueuePath::open((*uplink)->umem(), spec, i, vhost_user_, log_);
    if (!path) return std::unexpected(path.error());  // the paths opened so far close
    q.sub_queues.push_back(SubQueue{std::move(*path), cpus[i], SubQueue::Pending::none, 0, std::nullopt});
  }
  auto connected = (*uplink)->reset_queue_traffic(spec.id);
  for (unsigned i = 0; connected && i < q.sub_queues.size(); ++i)
    connected = (*uplink)->connect_sub_queue(spec.id, i, *q.sub_queues[i].path);
  if (!connected) {
    disconnect(q);
    return connected;
  }
  for (unsigned i = 0; i < q.sub_queues.size(); ++i) {
    SubQueue& sub = q.sub_queues[i];
    if (auto ok = workers_.add(worker_key(spec.id, i), *sub.path, sub.cpu); !ok) {
      disconnect(q);
      abandon_start(q);
      return ok;
    }
    sub.pending = SubQueue::Pending::start;
  }
  queues_.emplace(spec.id, std::move(q));
  return {};
}

void BpfDataplane::disconnect(QueueRuntime& q) {
  for (unsigned i = 0; i < q.sub_queues.size(); ++i) q.uplink->disconnect_sub_queue(q.spec.id, i);
}

void BpfDataplane::abandon_start(QueueRuntime& q) {
  for (unsigned i = 0; i < q.sub_queues.size(); ++i) {
    SubQueue& sub = q.sub_queues[i];
    const bool started = sub.outcome && sub.outcome->has_value();
    if (sub.pending == SubQueue::Pending::start || started)
      workers_.retire(worker_key(q.spec.id, i), std::move(sub.path), sub.cpu);
  }
  q.sub_queues.clear();  // the others no worker ever served: they close here
}

Result<void> BpfDataplane::publish_queue_state(const QueueSpec& spec, QueueState state) {
  auto uplink = find_uplink(spec.uplink);
  if (!uplink) return std::unexpected(uplink.error());
  return (*uplink)->publish_queue(spec.id, spec.vlan_mode, to_abi(state), spec.sub_queues());
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
  if (q.sub_queues.size() != 1)
    return fail(Errc::invalid_argument, fmt::format("queue {}: its sub-queues stay on their CPUs", id));
  SubQueue& sub = q.sub_queues.front();
  if (sub.pending != SubQueue::Pending::none)
    return fail(Errc::conflict, fmt::format("queue {}: its worker has not answered the last change", id));
  if (auto ok = workers_.move(worker_key(id, 0), *sub.path, sub.cpu, cpu); !ok) return ok;
  sub.pending = SubQueue::Pending::move;
  sub.move_to = cpu;
  return {};
}

Result<bool> BpfDataplane::change_settled(QueueId id) {
  auto it = queues_.find(id);
  if (it == queues_.end()) {  // stopped: a stop never fails
    bool all_let_go = true;
    for (unsigned i = 0; i < kMaxSubQueues; ++i) {
      auto settled = workers_.settled(worker_key(id, i));
      if (!settled)
        log_(LogLevel::error, fmt::format("queue {}: {}; its sockets close once the worker lets go of it", id,
                                          settled.error().message));
      else if (!*settled)
        all_let_go = false;
    }
    return all_let_go;
  }
  QueueRuntime& q = it->second;
  // Every sub-queue's worker answers before the change is over.
  for (unsigned i = 0; i < q.sub_queues.size(); ++i) {
    SubQueue& sub = q.sub_queues[i];
    if (sub.pending == SubQueue::Pending::none || sub.outcome) continue;
    auto settled = workers_.settled(worker_key(id, i));
    if (settled && !*settled) return false;
    sub.outcome = settled ? Result<void>{} : Result<void>{std::unexpected(settled.error())};
  }
  std::optional<Error> failure;
  bool start_failed = false;
  for (SubQueue& sub : q.sub_queues) {
    if (sub.pending == SubQueue::Pending::none) continue;
    const bool ok = sub.outcome->has_value();
    if (!ok && !failure) failure = sub.outcome->error();
    if (ok && sub.pending == SubQueue::Pending::move) sub.cpu = sub.move_to;
    if (!ok && sub.pending == SubQueue::Pending::start) start_failed = true;
  }
  q.spec.cpu = q.sub_queues.front().cpu;
  if (start_failed) {  // undone: the sub-queues that did start are retired
    for (SubQueue& sub : q.sub_queues) sub.pending = SubQueue::Pending::none;
    disconnect(q);
    abandon_start(q);
    queues_.erase(it);
  } else {
    for (SubQueue& sub : q.sub_queues) {
      sub.pending = SubQueue::Pending::none;
      sub.outcome.reset();
    }
  }
  if (failure) return std::unexpected(*failure);
  return true;
}

Result<DrainProbe> BpfDataplane::drain_probe(QueueId id) {
  auto it = queues_.find(id);
  if (it == queues_.end()) return DrainProbe{};
  DrainProbe probe;
  for (const SubQueue& sub : it->second.sub_queues) {
    probe.rings_empty = probe.rings_empty && sub.path->empty();
    probe.delivered += sub.path->delivered_packets();
  }
  auto stats = queue_stats(id);
  if (!stats) return std::unexpected(stats.error());
  probe.stats = *stats;
  return probe;
}

void BpfDataplane::stop_queue(QueueId id) {
  auto it = queues_.find(id);
  if (it == queues_.end()) return;
  QueueRuntime q = std::move(it->second);
  queues_.erase(it);
  disconnect(q);
  for (unsigned i = 0; i < q.sub_queues.size(); ++i)
    workers_.retire(worker_key(id, i), std::move(q.sub_queues[i].path), q.sub_queues[i].cpu);
}

Result<QueueStats> BpfDataplane::queue_stats(QueueId id) const {
  auto it = queues_.find(id);
  if (it == queues_.end()) return QueueStats{};
  std::vector<std::pair<unsigned, QueueStats>> parts;
  for (const SubQueue& sub : it->second.sub_queues) parts.emplace_back(sub.cpu, sub.path->stats());
  QueueStats stats = sum_of_sub_queues(parts);
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
