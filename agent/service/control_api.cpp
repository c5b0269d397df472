#include "service/control_api.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <exception>

#include <fmt/format.h>

#include "api/codec.h"
#include "core/default_reason.h"
#include "core/frame_builder.h"
#include "core/names.h"
#include "service/api_records.h"
#include "service/migration.h"
#include "service/views.h"

namespace vmq::service {

using json = nlohmann::json;

namespace {

template <typename T>
std::unexpected<Error> error_of(const Result<T>& r) {
  return std::unexpected(r.error());
}

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

bool same_filters(const std::vector<const Filter*>& have, const std::vector<FilterMatch>& want) {
  if (have.size() != want.size()) return false;
  for (const FilterMatch& m : want)
    if (std::ranges::none_of(have, [&](const Filter* f) { return f->match == m; })) return false;
  return true;
}

std::vector<FilterMatch> matches_of(const std::vector<api::FilterRule>& rules) {
  std::vector<FilterMatch> out;
  for (const api::FilterRule& rule : rules) out.push_back(match_of(rule));
  return out;
}

}  // namespace

template <typename M>
void ControlApi::bind(MethodOf<M> method) {
  methods_.emplace(M::name, [this, method](const json& params) -> Result<json> {
    auto decoded = api::params_from_json<typename M::Params>(params);
    if (!decoded) return error_of(decoded);
    auto reply = (this->*method)(*decoded);
    if (!reply) return error_of(reply);
    return api::to_json(*reply);
  });
}

template <typename M>
void ControlApi::bind(AsyncMethodOf<M> method) {
  async_methods_.emplace(M::name, [this, method](const json& params) -> boost::asio::awaitable<Result<json>> {
    auto decoded = api::params_from_json<typename M::Params>(params);
    if (!decoded) co_return error_of(decoded);
    auto reply = co_await (this->*method)(*decoded);
    if (!reply) co_return error_of(reply);
    co_return api::to_json(*reply);
  });
}

ControlApi::ControlApi(QueueManager& manager, const Telemetry& telemetry, FrameTracer& tracer, AgentInfo info,
                       SaveState save_state, OperationTiming timing)
    : manager_(manager),
      telemetry_(telemetry),
      tracer_(tracer),
      info_(std::move(info)),
      save_state_(std::move(save_state)),
      operations_(manager, timing) {
  bind<api::Status>(&ControlApi::status);
  bind<api::Caps>(&ControlApi::caps);
  bind<api::QueueAdd>(&ControlApi::queue_add);
  bind<api::QueueList>(&ControlApi::queue_list);
  bind<api::QueueShow>(&ControlApi::queue_show);
  bind<api::QueueSet>(&ControlApi::queue_set);
  bind<api::QueuePause>(&ControlApi::queue_pause);
  bind<api::QueueResume>(&ControlApi::queue_resume);
  bind<api::QueueDel>(&ControlApi::queue_del);
  bind<api::FilterAdd>(&ControlApi::filter_add);
  bind<api::FilterList>(&ControlApi::filter_list);
  bind<api::FilterDel>(&ControlApi::filter_del);
  bind<api::Stats>(&ControlApi::stats);
  bind<api::Trace>(&ControlApi::trace);
  bind<api::MigrateDrain>(&ControlApi::migrate_drain);
  bind<api::MigrateRestore>(&ControlApi::migrate_restore);
}

boost::asio::awaitable<api::Reply> ControlApi::handle(const api::Request& request) {
  api::Reply reply{request.id, {}, std::nullopt};
  auto method = methods_.find(request.method);
  auto async_method = async_methods_.find(request.method);
  if (method == methods_.end() && async_method == async_methods_.end()) {
    reply.error = Error{Errc::protocol, fmt::format("unknown method '{}'", request.method)};
    co_return reply;
  }
  const std::uint64_t generation = manager_.generation();
  Result<json> result = fail(Errc::system, "not run");
  try {
    if (method != methods_.end())
      result = method->second(request.params);
    else
      result = co_await async_method->second(request.params);
  } catch (const std::exception& e) {  // a bug, never the client's fault: keep serving
    result = fail(Errc::system, fmt::format("internal error in {}: {}", request.method, e.what()));
  }
  // Whatever changed is saved, also by a call that failed half way.
  if (manager_.generation() != generation) {
    if (auto saved = save_state_(); !saved) {
      const std::string lost = fmt::format("the change was made but could not be saved, so it will not survive a "
                                           "restart: {}",
                                           saved.error().message);
      reply.error = result ? Error{Errc::system, lost} : Error{result.error().code, result.error().message + "; " + lost};
      co_return reply;
    }
  }
  if (!result) {
    reply.error = result.error();
    co_return reply;
  }
  reply.result = std::move(*result);
  co_return reply;
}

api::Queue ControlApi::queue_view(const Queue& queue, bool detail) const {
  return service::queue_view(queue, manager_, telemetry_, detail);
}

Result<api::StatusReply> ControlApi::status(const api::NoParams&) {
  api::StatusReply s;
  for (const auto& u : telemetry_.uplinks()) s.uplinks.push_back(uplink_view(u));
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - info_.started);
  s.version = info_.version;
  s.protocol = api::kProtocolVersion;
  s.pid = static_cast<std::uint32_t>(getpid());
  s.host_id = info_.host_id;
  s.uptime_seconds = static_cast<std::uint64_t>(uptime.count());
  s.queues = manager_.queues().size();
  s.filters = manager_.filter_count();
  s.max_queues = manager_.limits().max_queues;
  s.max_filters = manager_.limits().max_filters;
  const auto per_cpu = manager_.queues_per_cpu();
  auto queues_on = [&](unsigned cpu) -> std::uint64_t {
    auto it = per_cpu.find(cpu);
    return it == per_cpu.end() ? 0 : it->second;
  };
  if (rebalancing_ && !rebalancing_->loads().empty()) {
    for (const Rebalancing::CpuMeasure& m : rebalancing_->loads())
      s.cpus.push_back({m.cpu, queues_on(m.cpu), m.busy_share, m.worker_share, m.softirq_share});
  } else {
    for (unsigned cpu : manager_.placement().cpus())
      s.cpus.push_back({cpu, queues_on(cpu), std::nullopt, std::nullopt, std::nullopt});
  }
  if (rebalancing_) {
    const RebalancerSettings& policy = rebalancing_->config().policy;
    s.rebalancer = {policy.enabled, policy.high, policy.low, rebalancing_->moves()};
  }
  return s;
}

Result<api::CapsReply> ControlApi::caps(const api::CapsParams& p) {
  api::CapsReply c;
  for (const auto& u : telemetry_.uplinks())
    if (!p.uplink || u.name == *p.uplink) c.uplinks.push_back(uplink_view(u));
  if (p.uplink && c.uplinks.empty()) return fail(Errc::not_found, fmt::format("uplink {} is not managed by vmqd", *p.uplink));
  const auto& limits = manager_.limits();
  c.max_queues = limits.max_queues;
  c.max_filters = limits.max_filters;
  c.filter_fields = {"destination_mac", "vlan_id"};
  c.filter_tests = {"equal"};
  c.vlan_modes = {"access", "trunk"};
  c.frames = {limits.frames_min, limits.frames_max, limits.frames_default};
  c.cpus.assign(manager_.placement().cpus().begin(), manager_.placement().cpus().end());
  return c;
}

boost::asio::awaitable<Result<api::Queue>> ControlApi::queue_add(const api::QueueAddParams& p) {
  QueueParams q;
  q.name = p.name;
  q.uplink = p.uplink;
  q.port = p.port;
  q.port_kind = p.port_kind.value_or(PortKind::netdev);
  q.vm = p.vm.value_or("");
  q.cpu = p.cpu;
  q.frames = p.frames;
  q.vlan_mode = p.vlan_mode.value_or(VlanMode::trunk);
  q.sub_queues = p.sub_queues.value_or(1);
  if (p.sub_queue_cpus) q.sub_queue_cpus.assign(p.sub_queue_cpus->begin(), p.sub_queue_cpus->end());
  const std::vector<FilterMatch> filters = matches_of(p.filters);  // named: GCC 12 and temporaries in co_await
  auto id = co_await operations_.create(q, filters);
  if (!id) co_return error_of(id);
  co_return queue_view(*manager_.queue(*id), true);
}

Result<api::QueueListReply> ControlApi::queue_list(const api::NoParams&) {
  api::QueueListReply list;
  for (const Queue* q : manager_.queues()) list.queues.push_back(queue_view(*q, false));
  return list;
}

Result<api::Queue> ControlApi::queue_show(const api::QueueSelector& p) {
  auto q = manager_.find(p.queue);
  if (!q) return error_of(q);
  return queue_view(**q, true);
}

boost::asio::awaitable<Result<api::Queue>> ControlApi::queue_set(const api::QueueSetParams& p) {
  auto q = manager_.find(p.queue);
  if (!q) co_return error_of(q);
  if (!p.cpu && !p.auto_cpu && !p.name && !p.vm)
    co_return fail(Errc::invalid_argument, "nothing to change: give cpu, auto_cpu, name or vm");
  if (p.cpu && p.auto_cpu)
    co_return fail(Errc::invalid_argument, "give either a cpu (pins the queue) or auto_cpu, not both");
  if (p.auto_cpu && !*p.auto_cpu)
    co_return fail(Errc::invalid_argument, "auto_cpu: false is not a change: give a cpu to pin the queue");
  const QueueId id = (*q)->id;
  // Check every change before making any, so that a refusal changes nothing.
  if (p.name) {
    if (auto ok = check_queue_name(*p.name); !ok) co_return error_of(ok);
    for (const Queue* other : manager_.queues())
      if (other->id != id && other->name == *p.name)
        co_return fail(Errc::conflict, fmt::format("queue {}: the name {} is already used by queue {}", (*q)->name,
                                                *p.name, other->id));
  }
  if (p.vm) {
    if (auto ok = check_vm_name(*p.vm); !ok) co_return error_of(ok);
  }
  if (p.cpu) {
    if (auto ok = co_await operations_.set_cpu(id, *p.cpu); !ok) co_return error_of(ok);
    if (auto ok = manager_.set_cpu_pinned(id, true); !ok) co_return error_of(ok);
  }
  if (p.auto_cpu) {
    if (auto ok = manager_.set_cpu_pinned(id, false); !ok) co_return error_of(ok);
  }
  if (p.name) {
    if (auto ok = manager_.rename(id, *p.name); !ok) co_return error_of(ok);
  }
  if (p.vm) {
    if (auto ok = manager_.set_vm(id, *p.vm); !ok) co_return error_of(ok);
  }
  co_return queue_view(*manager_.queue(id), true);
}

Result<api::Queue> ControlApi::queue_pause(const api::QueueSelector& p) {
  auto q = manager_.find(p.queue);
  if (!q) return error_of(q);
  if (auto ok = manager_.pause((*q)->id); !ok) return error_of(ok);
  return queue_view(**q, true);
}

boost::asio::awaitable<Result<api::Queue>> ControlApi::queue_resume(const api::QueueSelector& p) {
  auto q = manager_.find(p.queue);
  if (!q) co_return error_of(q);
  const QueueId id = (*q)->id;
  if (auto ok = co_await operations_.resume(id); !ok) co_return error_of(ok);
  co_return queue_view(*manager_.queue(id), true);
}

boost::asio::awaitable<Result<api::QueueDelReply>> ControlApi::queue_del(const api::QueueSelector& p) {
  auto q = manager_.find(p.queue);
  if (!q) co_return error_of(q);
  const QueueId id = (*q)->id;
  const std::string name = (*q)->name;
  auto drained = co_await operations_.remove(id);
  if (!drained) co_return error_of(drained);
  co_return api::QueueDelReply{id, name, drained->frames, static_cast<std::uint64_t>(drained->duration.count())};
}

Result<api::Filter> ControlApi::filter_add(const api::FilterAddParams& p) {
  auto q = manager_.find(p.queue);
  if (!q) return error_of(q);
  auto id = manager_.set_filter((*q)->id, match_of(p.rule));
  if (!id) return error_of(id);
  return filter_view(*manager_.filter(*id), manager_, telemetry_);
}

Result<api::FilterListReply> ControlApi::filter_list(const api::FilterListParams& p) {
  api::FilterListReply list;
  auto add_filters_of = [&](const Queue& q) {
    for (const Filter* f : manager_.filters_of(q.id))
      list.filters.push_back(filter_view(*f, manager_, telemetry_));
  };
  if (p.queue) {
    auto q = manager_.find(*p.queue);
    if (!q) return error_of(q);
    add_filters_of(**q);
  } else {
    for (const Queue* q : manager_.queues()) add_filters_of(*q);
  }
  return list;
}

Result<api::Filter> ControlApi::filter_del(const api::FilterDelParams& p) {
  const Filter* f = manager_.filter(p.filter);
  if (!f) return fail(Errc::not_found, fmt::format("no filter with id {}", p.filter));
  api::Filter removed = filter_view(*f, manager_, telemetry_);
  if (auto ok = manager_.clear_filter(f->id); !ok) return error_of(ok);
  return removed;
}

Result<api::StatsReply> ControlApi::stats(const api::StatsParams& p) {
    api::StatsReply s;
  if (p.queue) {
    auto q = manager_.find(*p.queue);
    if (!q) return error_of(q);
    s.queues.push_back(queue_view(**q, true));
  } else {
    for (const Queue* q : manager_.queues()) s.queues.push_back(queue_view(*q, true));
  }
  for (const auto& u : telemetry_.uplinks()) {
    auto by_reason = telemetry_.default_queue_stats(u.name);
    auto umem = telemetry_.umem_stats(u.name);
    auto tables = telemetry_.classifier_tables(u.name);
    if (!by_reason) return error_of(by_reason);
    if (!umem) return error_of(umem);
    if (!tables) return error_of(tables);
    s.uplinks.push_back({u.name, default_queue_view(*by_reason), umem_view(*umem), {tables->filters, tables->queues}});
  }
  for (const WorkerLoad& w : manager_.worker_loads()) s.workers.push_back(worker_view(w));
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto uptime = std::chrono::steady_clock::now() - info_.started;
  s.timestamp_ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
  s.uptime_ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(uptime).count());
  return s;
}

Result<api::TraceReply> ControlApi::trace(const api::TraceParams& p) {
  if (p.vlan2 && !p.vlan) return fail(Errc::invalid_argument, "an inner tag (vlan2) needs an outer one (vlan)");
  FrameBuilder builder;
  builder.dst(p.dst);
  if (p.src) builder.src(*p.src);
  // Two tags are QinQ: an 802.1ad outer tag, an 802.1Q inner one.
  if (p.vlan) builder.tag(*p.vlan, p.vlan2 ? kTpid8021AD : kTpid8021Q);
  if (p.vlan2) builder.tag(*p.vlan2);
  const auto frame = builder.build();
  const std::uint32_t rx_queue = p.rx_queue.value_or(0);
  auto verdict = tracer_.trace(p.uplink, frame, rx_queue);
  if (!verdict) return error_of(verdict);

  const std::uint16_t key_vlan = p.vlan.value_or(0);
  const auto vlan_text = key_vlan ? fmt::format("VLAN {}", key_vlan) : std::string("untagged");
  api::TraceReply out;
  out.uplink = p.uplink;
  out.rx_queue = rx_queue;
  out.frame = {p.dst, p.vlan, p.vlan2, frame.size()};
  out.output_length = verdict->frame.size();
  if (verdict->destination == TraceVerdict::Destination::queue) {
    const Queue* q = manager_.queue(verdict->queue);
    const Filter* f = manager_.filter(verdict->filter);
    const bool tag_removed = frame.size() != verdict->frame.size();
    out.destination = api::TraceDestination::queue;
    out.queue = api::QueueRef{verdict->queue, q ? q->name : ""};
    out.filter = api::FilterRef{verdict->filter};
    out.tag_removed = tag_removed;
    out.explanation = fmt::format("delivered to queue {} (id {}) by filter {} ({}){}", q ? q->name : "?",
                                  verdict->queue, verdict->filter, f ? f->match.describe() : "?",
                                  tag_removed ? ", VLAN tag removed (access mode)" : "");
    return out;
  }
  out.destination = api::TraceDestination::default_queue;
  const auto reason = verdict->reason.value_or(DefaultReason::no_filter);
  out.reason = std::string(to_string(reason));
  std::string why;
  switch (reason) {
    case DefaultReason::no_filter:
      why = fmt::format("no filter matches MAC {} {}", p.dst.to_string(), vlan_text);
      break;
    case DefaultReason::queue_not_running: {
      // The verdict names the filter the frame's key matched and its queue.
      const Queue* q = verdict->filter ? manager_.queue(verdict->queue) : nullptr;
      why = q ? fmt::format("filter {} matches, but queue {} is {}", verdict->filter, q->name,
                            to_string(q->visible_state()))
              : "a filter matches, but its queue is not running";
      if (q) out.queue = api::QueueRef{q->id, q->name};
      break;
    }
    case DefaultReason::broadcast_multicast: why = "broadcast and multicast frames always go to the default queue"; break;
    case DefaultReason::malformed: why = "the frame is malformed"; break;
    case DefaultReason::empty_slot:
      why = fmt::format("filter {} matches, but its queue has no socket on rx queue {}", verdict->filter, rx_queue);
      break;
    case DefaultReason::oversize: why = "the frame is longer than a queue's buffer"; break;
  }
  if (verdict->filter) out.filter = api::FilterRef{verdict->filter};
  out.explanation = "default queue (the host's switch): " + why;
  return out;
}

boost::asio::awaitable<Result<api::MigrateDrainReply>> ControlApi::migrate_drain(const api::QueueSelector& p) {
  auto result = co_await drain_for_migration(p);
  if (!result) ++migrations_.drain_failures;
  co_return result;
}

boost::asio::awaitable<Result<api::MigrateRestoreReply>> ControlApi::migrate_restore(const api::MigrateRestoreParams& p) {
  auto result = co_await restore_from_migration(p);
  if (!result) ++migrations_.restore_failures;
  co_return result;
}

// Live migration, source side: new frames take the default path from the
// moment the filters are cleared; what the queue holds is delivered; DMA
// stopped is indicated once; the queue is freed and described.
boost::asio::awaitable<Result<api::MigrateDrainReply>> ControlApi::drain_for_migration(const api::QueueSelector& p) {
  auto q = manager_.find(p.queue);
  if (!q) co_return error_of(q);
  const Queue queue = **q;
  api::MigrationDocument doc;
  doc.source_host = info_.host_id;
  doc.drained_at = utc_now();
  doc.queue.settings = settings_of(queue);
  doc.queue.cpu_policy.cpu = queue.cpu;
  doc.queue.cpu_policy.pinned = queue.cpu_pinned;
  if (queue.sub_queues() > 1) doc.queue.cpu_policy.sub_queues = queue.sub_queues();
  for (const Filter* f : manager_.filters_of(queue.id)) doc.queue.filters.push_back(rule_of(f->match));
  const std::uint64_t indications_before = manager_.dma_stopped_count();
  auto drained = co_await operations_.remove(queue.id);
  if (!drained) co_return error_of(drained);
  const auto drain_us = static_cast<std::uint64_t>(drained->duration.count());
  doc.counters_at_drain = counters_view(drained->final_stats);
  doc.drain = {drained->frames, drain_us};
  migrations_.drains.observe(drained->duration);
  co_return api::MigrateDrainReply{sealed(std::move(doc)), drained->frames, drain_us,
                                manager_.dma_stopped_count() - indications_before};
}

// Live migration, destination side: the queue is created with its filters
// and runs, or nothing is created at all. Restoring what is already here is
// a success, so that a hook may run it twice.
boost::asio::awaitable<Result<api::MigrateRestoreReply>> ControlApi::restore_from_migration(const api::MigrateRestoreParams& p) {
  auto doc = parse_migration_document(p.document);
  if (!doc) co_return error_of(doc);
  const api::QueueSettings& settings = doc->queue.settings;
  const std::vector<FilterMatch> filters = matches_of(doc->queue.filters);

  QueueParams q{settings.name, settings.vm, p.uplink.value_or(settings.uplink), p.port.value_or(settings.port),
                std::nullopt, settings.frames, settings.vlan_mode, {}, doc->queue.cpu_policy.sub_queues.value_or(1),
                settings.port_kind};
  api::CpuChoice cpu_choice = api::CpuChoice::automatic;
  if (q.sub_queues > 1) {
    // Each sub-queue on a CPU of this host's: placed here, never the source's numbers.
    if (p.cpu && p.cpu->number)
      co_return fail(Errc::invalid_argument,
                     fmt::format("queue {} has {} sub-queues, each placed on a CPU of its own here: --cpu cannot "
                                 "choose one",
                                 settings.name, q.sub_queues));
  } else if (p.cpu) {
    q.cpu = p.cpu->number;
    cpu_choice = p.cpu->number ? api::CpuChoice::given : api::CpuChoice::automatic;
  } else if (manager_.placement().check(doc->queue.cpu_policy.cpu)) {
    q.cpu = doc->queue.cpu_policy.cpu;
    cpu_choice = api::CpuChoice::document;
  }  // else the source's CPU is not usable here

  if (auto existing = manager_.find(settings.name); existing) {
    const Queue& e = **existing;
    if (e.uplink == q.uplink && e.port == q.port && same_filters(manager_.filters_of(e.id), filters))
      co_return api::MigrateRestoreReply{queue_view(e, true), true, std::nullopt, 0, std::nullopt};
    co_return fail(Errc::conflict, fmt::format("queue {} already exists here (id {}) with other settings", e.name, e.id));
  }
  const auto start = std::chrono::steady_clock::now();
  auto id = co_await operations_.create(q, filters);
  if (!id) co_return error_of(id);
  const bool pinned = cpu_choice == api::CpuChoice::given ||
                     (cpu_choice == api::CpuChoice::document && doc->queue.cpu_policy.pinned.value_or(true));
  if (q.sub_queues <= 1) {  // a queue of sub-queues is pinned by its nature
    if (auto ok = manager_.set_cpu_pinned(*id, pinned); !ok) co_return error_of(ok);
  }
  if (settings.paused_by_operator) {
    if (auto ok = manager_.pause(*id); !ok) co_return error_of(ok);
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
  migrations_.restores.observe(elapsed);
  co_return api::MigrateRestoreReply{queue_view(*manager_.queue(*id), true), false, cpu_choice,
                                  static_cast<std::uint64_t>(elapsed.count()), doc->source_host};
}

}  // namespace vmq::service
