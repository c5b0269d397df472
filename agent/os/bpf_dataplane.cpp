#include "os/bpf_dataplane.h"

#include <linux/bpf.h>

#include <algorithm>

#include <fmt/format.h>

#include "os/bpffs.h"
#include "os/netdev.h"

namespace vmq::os {
namespace {

constexpr unsigned kStandardMtu = 1500;  // Ethernet's ETH_DATA_LEN

}  // namespace

Result<std::unique_ptr<BpfDataplane>> BpfDataplane::create(const DataplaneConfig& config, LogSink log) {
  std::unique_ptr<BpfDataplane> dataplane(new BpfDataplane(std::move(log)));
  auto mounted = ensure_bpffs();
  if (!mounted)
    dataplane->log_(LogLevel::warning, fmt::format("{}: libxdp's dispatcher cannot be used", mounted.error().message));
  else if (*mounted)
    dataplane->log_(LogLevel::info, "mounted bpffs on /sys/fs/bpf");
  for (const auto& name : config.uplinks) {
    if (auto ok = dataplane->add_uplink(name, config); !ok) return std::unexpected(ok.error());
  }
  return dataplane;
}

Result<void> BpfDataplane::add_uplink(const std::string& name, const DataplaneConfig& config) {
  auto uplink = std::make_unique<Uplink>();
  uplink->name = name;
  auto ifindex = ifindex_of(name);
  if (!ifindex) return fail(ifindex.error().code, fmt::format("uplink {}: {}", name, ifindex.error().message));
  uplink->ifindex = *ifindex;
  auto rxqs = rx_queue_count(name);
  if (!rxqs) return std::unexpected(rxqs.error());
  uplink->rx_queues = *rxqs;

  auto mtu = mtu_of(name);
  if (!mtu) return std::unexpected(mtu.error());
  uplink->mtu = *mtu;
  // At the standard MTU every frame fits one buffer: the single-buffer build
  // is the faster one. Above it, frames may span several buffers (jumbo
  // uplinks), and so they may where a device refuses a program without
  // multi-buffer support (a veth whose peer has a larger MTU, a NIC that
  // splits headers from data): the multi-buffer build is used there.
  auto attach_build = [&](bool multi_buffer, bool generic_fallback) -> Result<void> {
    const ClassifierLimits limits{config.max_queues + 1, config.max_filters, uplink->rx_queues, kMaxFrameLen,
                                  multi_buffer};
    uplink->attachment.reset();
    auto classifier = Classifier::open(limits);
    if (!classifier) return std::unexpected(classifier.error());
    uplink->classifier.emplace(std::move(*classifier));
    auto attachment = XdpAttachment::attach(*uplink->classifier, name, config.attach_policy, log_, generic_fallback);
    if (!attachment) return std::unexpected(attachment.error());
    uplink->attachment.emplace(std::move(*attachment));
    return {};
  };
  bool multi_buffer = *mtu > kStandardMtu;
  if (!multi_buffer) {
    if (auto single = attach_build(false, false); !single) {
      if (single.error().code == Errc::conflict) return std::unexpected(single.error());  // not ours to take
      log_(LogLevel::notice, fmt::format("uplink {}: the single-buffer classifier does not attach natively ({}); "
                                         "using the multi-buffer build",
                                         name, single.error().message));
      multi_buffer = true;
    }
  }
  if (multi_buffer)
    if (auto attached = attach_build(true, true); !attached) return std::unexpected(attached.error());
  auto umem = UplinkUmem::create(name, uplink->rx_queues, config.umem_frames_per_rxq);
  if (!umem) return std::unexpected(umem.error());
  uplink->umem = std::move(*umem);
  log_(LogLevel::info, fmt::format("uplink {}: classifier attached ({}, {} mode, program {}, {}-buffer frames "
                                   "at MTU {}), {} rx queue(s), {} UMEM frames",
                                   name, uplink->attachment->method(), uplink->attachment->mode(),
                                   uplink->attachment->program_id(), multi_buffer ? "multi" : "single", *mtu,
                                   uplink->rx_queues, uplink->umem->frames_per_rxq() * uplink->rx_queues));
  uplinks_.push_back(std::move(uplink));
  return {};
}

BpfDataplane::~BpfDataplane() {
  // Workers first (they touch the queues), then sockets, then uplinks
  // (UMEM, then the XDP attachment, then the program).
  for (auto& [id, q] : queues_) clear_slots(q);
  workers_.clear();
  for (auto& [id, q] : queues_) q.path->reclaim();
  for (auto& [id, q] : stopping_) q.path->reclaim();
  for (auto& q : stranded_) q.path->reclaim();
  queues_.clear();
  stopping_.clear();
  stranded_.clear();
  uplinks_.clear();
}

Result<BpfDataplane::Uplink*> BpfDataplane::find_uplink(std::string_view name) {
  for (auto& u : uplinks_)
    if (u->name == name) return u.get();
  return fail(Errc::not_found, fmt::format("uplink {} is not managed by vmqd", name));
}

Result<const BpfDataplane::Uplink*> BpfDataplane::find_uplink(std::string_view name) const {
  for (const auto& u : uplinks_)
    if (u->name == name) return u.get();
  return fail(Errc::not_found, fmt::format("uplink {} is not managed by vmqd", name));
}

UplinkInfo BpfDataplane::info_of(const Uplink& u) const {
  return UplinkInfo{u.name,
                    u.rx_queues,
                    u.attachment->mode(),
                    u.attachment->method(),
                    u.attachment->program_id(),
                    !u.degraded.empty(),
                    u.degraded,
                    kMaxFrameLen,
                    u.mtu,
                    u.classifier->limits().multi_buffer};
}

std::vector<std::string> BpfDataplane::uplink_names() const {
  std::vector<std::string> out;
  for (const auto& u : uplinks_) out.push_back(u->name);
  return out;
}

std::vector<UplinkInfo> BpfDataplane::uplinks() const {
  std::vector<UplinkInfo> out;
  for (const auto& u : uplinks_) out.push_back(info_of(*u));
  return out;
}

Result<void> BpfDataplane::check_port(std::string_view port) const {
  auto index = ifindex_of(std::string(port));
  if (!index) return fail(index.error().code, fmt::format("port {}: {}", port, index.error().message));
  return {};
}

Result<Worker*> BpfDataplane::worker_for(unsigned cpu) {
  if (auto it = workers_.find(cpu); it != workers_.end()) return it->second.get();
  auto worker = Worker::start(cpu);
  if (!worker) return std::unexpected(worker.error());
  return workers_.emplace(cpu, std::move(*worker)).first->second.get();
}

void BpfDataplane::release_worker_if_idle(unsigned cpu) {
  auto it = workers_.find(cpu);
  if (it != workers_.end() && it->second->queue_count() == 0 && !worker_awaited(cpu)) workers_.erase(it);
}

bool BpfDataplane::worker_awaited(unsigned cpu) const {
  auto awaits = [cpu](const QueueRuntime& q) { return q.change && q.change->cpu == cpu; };
  return std::ranges::any_of(queues_, [&](const auto& entry) { return awaits(entry.second); }) ||
         std::ranges::any_of(stopping_, [&](const auto& entry) { return awaits(entry.second); }) ||
         std::ranges::any_of(stranded_, awaits);
}

void BpfDataplane::clear_slots(const QueueRuntime& q) {
  for (unsigned r = 0; r < q.uplink->rx_queues; ++r)
    (void)q.uplink->classifier->delete_socket(q.uplink->classifier->socket_slot(q.spec.id, r));
}

Result<void> BpfDataplane::start_queue(const QueueSpec& spec) {
  auto uplink = find_uplink(spec.uplink);
  if (!uplink) return std::unexpected(uplink.error());
  Uplink& u = **uplink;
  if (queues_.contains(spec.id)) return fail(Errc::conflict, fmt::format("queue {} is already started", spec.id));
  auto path = VmQueuePath::open(*u.umem, spec);
  if (!path) return std::unexpected(path.error());
  QueueRuntime runtime{spec, &u, std::move(*path), std::nullopt};

  auto undo = [&](const Error& error) -> Result<void> {
    clear_slots(runtime);
    runtime.path->reclaim();
    return std::unexpected(error);
  };
  if (auto ok = u.classifier->reset_queue_traffic(spec.id); !ok) return undo(ok.error());
  for (unsigned r = 0; r < u.rx_queues; ++r) {
    if (auto ok = u.classifier->put_socket(u.classifier->socket_slot(spec.id, r), runtime.path->rx_socket_fd(r)); !ok)
      return undo(ok.error());
  }
  auto worker = worker_for(spec.cpu);
  if (!worker) return undo(worker.error());
  auto ticket = (*worker)->post_add(runtime.path.get());
  if (!ticket) {
    release_worker_if_idle(spec.cpu);
    return undo(ticket.error());
  }
  runtime.change = WorkerChange{WorkerChange::Step::join, spec.cpu, std::move(*ticket), spec.cpu, std::nullopt};
  queues_.emplace(spec.id, std::move(runtime));
  return {};
}

Result<void> BpfDataplane::publish_queue_state(const QueueSpec& spec, vmq_queue_state state) {
  auto uplink = find_uplink(spec.uplink);
  if (!uplink) return std::unexpected(uplink.error());
  const vmq_queue_entry entry{static_cast<std::uint32_t>(state),
                              spec.vlan_mode == VlanMode::access ? std::uint32_t{VMQ_VLAN_MODE_ACCESS}
                                                                 : std::uint32_t{VMQ_VLAN_MODE_TRUNK}};
  return (*uplink)->classifier->put_queue(spec.id, entry);
}

Result<void> BpfDataplane::install_filter(std::string_view uplink_name, const FilterMatch& match, QueueId queue,
                                          FilterId filter) {
  auto uplink = find_uplink(uplink_name);
  if (!uplink) return std::unexpected(uplink.error());
  Uplink& u = **uplink;
  if (auto ok = u.classifier->reset_filter_hits(filter); !ok) return ok;
  if (auto ok = u.classifier->put_filter(match.key(), vmq_filter_value{queue, filter}); !ok) return ok;
  u.filters[filter] = {match.key(), queue};
  return {};
}

Result<void> BpfDataplane::remove_filter(std::string_view uplink_name, const FilterMatch& match) {
  auto uplink = find_uplink(uplink_name);
  if (!uplink) return std::unexpected(uplink.error());
  Uplink& u = **uplink;
  if (auto ok = u.classifier->delete_filter(match.key()); !ok) return ok;
  const vmq_filter_key key = match.key();
  std::erase_if(u.filters, [&](const auto& entry) {
    const vmq_filter_key& installed = entry.second.key;
    return std::equal(std::begin(key.mac), std::end(key.mac), std::begin(installed.mac)) && key.vlan == installed.vlan;
  });
  return {};
}

Result<void> BpfDataplane::move_queue(QueueId id, unsigned cpu) {
  auto it = queues_.find(id);
  if (it == queues_.end()) return fail(Errc::not_found, fmt::format("queue {} is not started", id));
  QueueRuntime& q = it->second;
  if (q.change) return fail(Errc::conflict, fmt::format("queue {}: its worker has not answered the last change", id));
  const unsigned from = q.spec.cpu;
  auto target = worker_for(cpu);
  if (!target) return std::unexpected(target.error());
  // The queue's frames wait in its RX rings while no worker serves it.
  auto ticket = workers_.at(from)->post_remove(q.path.get());
  if (!ticket) {
    release_worker_if_idle(cpu);
    return std::unexpected(ticket.error());
  }
  q.change = WorkerChange{WorkerChange::Step::leave_to_move, from, std::move(*ticket), cpu, std::nullopt};
  return {};
}

Result<bool> BpfDataplane::change_settled(QueueId id) {
  if (auto stopping = stopping_.find(id); stopping != stopping_.end()) {
    WorkerChange& c = *stopping->second.change;
    auto settled = workers_.at(c.cpu)->settled(c.ticket);
    if (settled && !*settled) return false;
    stop_settled(stopping, std::move(settled));
    return true;
  }
  auto it = queues_.find(id);
  if (it == queues_.end() || !it->second.change) return true;
  QueueRuntime& q = it->second;
  WorkerChange& c = *q.change;
  auto settled = workers_.at(c.cpu)->settled(c.ticket);
  if (settled && !*settled) return false;
  if (c.step != WorkerChange::Step::join) return move_settled(q, std::move(settled));
  const unsigned cpu = c.cpu;
  q.change.reset();
  if (settled) return true;
  // The worker never saw the queue: undone as if it had not started.
  clear_slots(q);
  q.path->reclaim();
  queues_.erase(it);
  release_worker_if_idle(cpu);
  return std::unexpected(settled.error());
}

Result<bool> BpfDataplane::move_settled(QueueRuntime& q, Result<bool> settled) {
  using Step = WorkerChange::Step;
  const unsigned from = q.spec.cpu;
  const unsigned to = q.change->move_to;
  switch (q.change->step) {
    case Step::leave_to_move: {
      if (!settled) {  // the queue's worker still serves it: nothing changed
        q.change.reset();
        release_worker_if_idle(to);
        return std::unexpected(settled.error());
      }
      auto target = worker_for(to);
      if (!target) return rejoin(q, target.error());
      auto ticket = (*target)->post_add(q.path.get());
      if (!ticket) return rejoin(q, ticket.error());
      q.change = WorkerChange{Step::join_after_move, to, std::move(*ticket), to, std::nullopt};
      return false;
    }
    case Step::join_after_move:
      if (!settled) return rejoin(q, settled.error());
      q.spec.cpu = to;
      q.change.reset();
      release_worker_if_idle(from);
      return true;
    case Step::rejoin_after_failed_move: {
      const Error failure = *q.change->failure;
      if (!settled)
        log_(LogLevel::error, fmt::format("queue {}: no worker serves it: {}", q.spec.id, settled.error().message));
      q.change.reset();
      release_worker_if_idle(to);
      return std::unexpected(failure);
    }
    case Step::join:
    case Step::leave_to_stop: break;
  }
  return true;
}

Result<bool> BpfDataplane::rejoin(QueueRuntime& q, Error failure) {
  const unsigned to = q.change->move_to;
  auto home = worker_for(q.spec.cpu);
  auto ticket = home ? (*home)->post_add(q.path.get()) : Result<Worker::Ticket>(std::unexpected(home.error()));
  if (!ticket) {
    log_(LogLevel::error, fmt::format("queue {}: no worker serves it: {}", q.spec.id, ticket.error().message));
    q.change.reset();
    release_worker_if_idle(to);
    return std::unexpected(failure);
  }
  q.change = WorkerChange{WorkerChange::Step::rejoin_after_failed_move, q.spec.cpu, std::move(*ticket), to,
                          std::move(failure)};
  return false;
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
  clear_slots(q);
  auto w = workers_.find(q.spec.cpu);
  if (w == workers_.end()) {
    free_stopped(q);
    return;
  }
  auto ticket = w->second->post_remove(q.path.get());
  if (!ticket) {
    log_(LogLevel::error, fmt::format("queue {}: {}; its sockets close once the worker lets go of it", id,
                                      ticket.error().message));
    stranded_.push_back(std::move(q));
    return;
  }
  q.change = WorkerChange{WorkerChange::Step::leave_to_stop, q.spec.cpu, std::move(*ticket), q.spec.cpu, std::nullopt};
  stopping_.emplace(id, std::move(q));
}

void BpfDataplane::stop_settled(std::map<QueueId, QueueRuntime>::iterator stopping, Result<bool> settled) {
  QueueRuntime q = std::move(stopping->second);
  stopping_.erase(stopping);
  q.change.reset();
  if (!settled) {
    log_(LogLevel::error, fmt::format("queue {}: {}; its sockets close once the worker lets go of it", q.spec.id,
                                      settled.error().message));
    stranded_.push_back(std::move(q));
    return;
  }
  free_stopped(q);
}

void BpfDataplane::free_stopped(QueueRuntime& q) {
  q.path->reclaim();
  const unsigned cpu = q.spec.cpu;
  q.path.reset();
  release_worker_if_idle(cpu);
}

bool BpfDataplane::worker_let_go(QueueRuntime& q) {
  auto w = workers_.find(q.spec.cpu);
  if (w == workers_.end()) return true;
  if (!q.change) {
    auto ticket = w->second->post_remove(q.path.get());
    if (!ticket) return false;
    q.change = WorkerChange{WorkerChange::Step::leave_to_stop, q.spec.cpu, std::move(*ticket), q.spec.cpu,
                            std::nullopt};
  }
  auto settled = w->second->settled(q.change->ticket);
  if (settled && !*settled) return false;
  q.change.reset();
  return settled.has_value();
}

void BpfDataplane::retry_stranded() {
  for (auto it = stopping_.begin(); it != stopping_.end();) {
    const auto next = std::next(it);
    WorkerChange& c = *it->second.change;
    auto settled = workers_.at(c.cpu)->settled(c.ticket);
    if (!settled || *settled) stop_settled(it, std::move(settled));
    it = next;
  }
  std::vector<QueueRuntime> held, released;
  for (QueueRuntime& q : stranded_) (worker_let_go(q) ? released : held).push_back(std::move(q));
  stranded_ = std::move(held);
  for (QueueRuntime& q : released) {
    log_(LogLevel::notice, fmt::format("queue {}: its worker let go of it; sockets closed", q.spec.id));
    free_stopped(q);
  }
}

Result<QueueStats> BpfDataplane::queue_stats(QueueId id) const {
  auto it = queues_.find(id);
  if (it == queues_.end()) return QueueStats{};
  QueueStats stats = it->second.path->stats();
  auto classified = it->second.uplink->classifier->queue_traffic(id);
  if (!classified) return std::unexpected(classified.error());
  stats.classified = {classified->packets, classified->bytes};
  return stats;
}

Result<std::uint64_t> BpfDataplane::filter_hits(std::string_view uplink, FilterId filter) const {
  auto u = find_uplink(uplink);
  if (!u) return std::unexpected(u.error());
  return (*u)->classifier->filter_hits(filter);
}

Result<DefaultQueueStats> BpfDataplane::default_queue_stats(std::string_view uplink) const {
  auto u = find_uplink(uplink);
  if (!u) return std::unexpected(u.error());
  auto traffic = (*u)->classifier->default_traffic();
  if (!traffic) return std::unexpected(traffic.error());
  DefaultQueueStats stats;
  for (std::size_t r = 0; r < traffic->size(); ++r) stats.by_reason[r] = {(*traffic)[r].packets, (*traffic)[r].bytes};
  return stats;
}

Result<UmemStats> BpfDataplane::umem_stats(std::string_view uplink) const {
  auto u = find_uplink(uplink);
  if (!u) return std::unexpected(u.error());
  return (*u)->umem->stats();
}

Result<ClassifierTables> BpfDataplane::classifier_tables(std::string_view uplink) const {
  auto u = find_uplink(uplink);
  if (!u) return std::unexpected(u.error());
  auto entries = (*u)->classifier->table_entries();
  if (!entries) return std::unexpected(entries.error());
  return ClassifierTables{entries->filters, entries->queues};
}

Result<TraceVerdict> BpfDataplane::trace(std::string_view uplink_name, std::span<const std::uint8_t> frame,
                                         std::uint32_t rxq) {
  auto uplink = find_uplink(uplink_name);
  if (!uplink) return std::unexpected(uplink.error());
  Uplink& u = **uplink;
  if (rxq >= u.rx_queues)
    return fail(Errc::invalid_argument, fmt::format("uplink {} has {} rx queue(s): rx queue {} does not exist",
                                                    u.name, u.rx_queues, rxq));
  if (!u.shadow) {
    auto shadow = Classifier::load_shadow(*u.classifier);
    if (!shadow) return std::unexpected(shadow.error());
    u.shadow.emplace(std::move(*shadow));
  }
  const Classifier& shadow = *u.shadow;
  auto before = shadow.default_traffic();
  if (!before) return std::unexpected(before.error());
  std::map<FilterId, std::uint64_t> hits_before;
  for (const auto& [filter, installed] : u.filters) hits_before[filter] = shadow.filter_hits(filter).value_or(0);

  auto run = shadow.test_run(frame, static_cast<std::uint32_t>(u.ifindex), rxq);
  if (!run) return std::unexpected(run.error());
  TraceVerdict verdict{run->action, std::nullopt, 0, 0, std::move(run->frame)};
  auto after = shadow.default_traffic();
  if (!after) return std::unexpected(after.error());
  for (std::uint32_t r = 0; r < VMQ_DEFAULT_REASON_COUNT; ++r)
    if ((*after)[r].packets != (*before)[r].packets) verdict.reason = static_cast<vmq_default_reason>(r);
  // A filter's hit counter moves only on delivery; its map value names the queue.
  for (const auto& [filter, count] : hits_before) {
    if (shadow.filter_hits(filter).value_or(0) != count) {
      verdict.filter = filter;
      verdict.queue = u.filters.at(filter).queue;
    }
  }
  return verdict;
}

namespace {

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

std::vector<WorkerSample> BpfDataplane::worker_samples() const {
  std::vector<WorkerSample> out;
  for (const auto& [cpu, w] : workers_) out.push_back({cpu, w->tid(), w->queue_count(), w->cpu_time(), w->frames()});
  return out;
}

std::vector<UplinkInfo> BpfDataplane::check_attachments() {
  retry_stranded();
  std::vector<UplinkInfo> changed;
  for (auto& u : uplinks_) {
    auto attached = u->attachment->check();
    std::string problem = attached ? rx_queue_problem(u->name, u->rx_queues) : attached.error().message;
    if (problem != u->degraded) {
      u->degraded = std::move(problem);
      changed.push_back(info_of(*u));
    }
  }
  return changed;
}

}  // namespace vmq::os
