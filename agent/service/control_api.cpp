#include "service/control_api.h"

#include <linux/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <exception>

#include <fmt/format.h>

#include "core/default_reason.h"
#include "core/frame_builder.h"
#include "core/names.h"
#include "service/migration.h"
#include "service/params.h"
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

}  // namespace

ControlApi::ControlApi(QueueManager& manager, const Telemetry& telemetry, FrameTracer& tracer, AgentInfo info,
                       SaveState save_state)
    : manager_(manager), telemetry_(telemetry), tracer_(tracer), info_(std::move(info)), save_state_(std::move(save_state)) {
  methods_ = {
      {"status", &ControlApi::status},
      {"caps", &ControlApi::caps},
      {"queue.add", &ControlApi::queue_add},
      {"queue.list", &ControlApi::queue_list},
      {"queue.show", &ControlApi::queue_show},
      {"queue.set", &ControlApi::queue_set},
      {"queue.pause", &ControlApi::queue_pause},
      {"queue.resume", &ControlApi::queue_resume},
      {"queue.del", &ControlApi::queue_del},
      {"filter.add", &ControlApi::filter_add},
      {"filter.list", &ControlApi::filter_list},
      {"filter.del", &ControlApi::filter_del},
      {"stats", &ControlApi::stats},
      {"trace", &ControlApi::trace},
      {"migrate.drain", &ControlApi::migrate_drain},
      {"migrate.restore", &ControlApi::migrate_restore},
  };
}

api::Reply ControlApi::handle(const api::Request& request) {
  api::Reply reply{request.id, {}, std::nullopt};
  auto method = methods_.find(request.method);
  if (method == methods_.end()) {
    reply.error = Error{Errc::protocol, fmt::format("unknown method '{}'", request.method)};
    return reply;
  }
  const std::uint64_t generation = manager_.generation();
  Result<json> result = fail(Errc::system, "not run");
  try {
    result = (this->*method->second)(request.params);
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
      return reply;
    }
  }
  if (!result) {
    reply.error = result.error();
    return reply;
  }
  reply.result = std::move(*result);
  return reply;
}

Result<const Queue*> ControlApi::queue_param(const json& params) const {
  auto name = Params(params).string("queue");
  if (!name) return error_of(name);
  return manager_.find(*name);
}

json ControlApi::queue_view(const Queue& queue, bool detail) const {
  return queue_json(queue, manager_, telemetry_, detail);
}

Result<json> ControlApi::status(const json& params) {
  if (auto ok = Params(params).allow_only({}); !ok) return error_of(ok);
  json uplinks = json::array();
  for (const auto& u : telemetry_.uplinks()) uplinks.push_back(uplink_json(u));
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - info_.started);
  return json{{"version", info_.version},
              {"protocol", api::kProtocolVersion},
              {"pid", getpid()},
              {"host_id", info_.host_id},
              {"uptime_seconds", uptime.count()},
              {"queues", manager_.queues().size()},
              {"filters", manager_.filter_count()},
              {"max_queues", manager_.limits().max_queues},
              {"max_filters", manager_.limits().max_filters},
              {"uplinks", uplinks}};
}

Result<json> ControlApi::caps(const json& params) {
  const Params p(params);
  if (auto ok = p.allow_only({"uplink"}); !ok) return error_of(ok);
  auto only = p.optional_string("uplink");
  if (!only) return error_of(only);
  json uplinks = json::array();
  for (const auto& u : telemetry_.uplinks())
    if (!*only || u.name == **only) uplinks.push_back(uplink_json(u));
  if (*only && uplinks.empty()) return fail(Errc::not_found, fmt::format("uplink {} is not managed by vmqd", **only));
  const auto& limits = manager_.limits();
  return json{{"max_queues", limits.max_queues},
              {"max_filters", limits.max_filters},
              {"filter_fields", {"destination_mac", "vlan_id"}},
              {"filter_tests", {"equal"}},
              {"vlan_modes", {"access", "trunk"}},
              {"frames", {{"min", limits.frames_min}, {"max", limits.frames_max}, {"default", limits.frames_default}}},
              {"cpus", manager_.placement().cpus()},
              {"uplinks", uplinks}};
}

Result<json> ControlApi::queue_add(const json& params) {
  const Params p(params);
  if (auto ok = p.allow_only({"name", "vm", "uplink", "port", "cpu", "frames", "vlan_mode", "filters"}); !ok)
    return error_of(ok);
  QueueParams q;
  auto name = p.string("name");
  auto uplink = p.string("uplink");
  auto port = p.string("port");
  auto vm = p.optional_string("vm");
  auto cpu = p.optional_uint("cpu", 4095);
  auto frames = p.optional_uint("frames", UINT32_MAX);
  auto mode = p.optional_string("vlan_mode");
  for (auto* r : {&name, &uplink, &port})
    if (!*r) return error_of(*r);
  if (!vm) return error_of(vm);
  if (!cpu) return error_of(cpu);
  if (!frames) return error_of(frames);
  if (!mode) return error_of(mode);
  q.name = *name;
  q.uplink = *uplink;
  q.port = *port;
  q.vm = vm->value_or("");
  if (*cpu) q.cpu = static_cast<unsigned>(**cpu);
  if (*frames) q.frames = static_cast<std::uint32_t>(**frames);
  if (*mode) {
    auto parsed = parse_vlan_mode(**mode);
    if (!parsed) return error_of(parsed);
    q.vlan_mode = *parsed;
  }
  std::vector<FilterMatch> filters;
  if (const json* list = p.find("filters")) {
    if (!list->is_array()) return fail(Errc::invalid_argument, "parameter 'filters' must be an array");
    for (std::size_t i = 0; i < list->size(); ++i) {
      auto match = filter_match_from((*list)[i], fmt::format("filters[{}]", i));
      if (!match) return fail(Errc::invalid_argument, fmt::format("queue {}: {}", q.name, match.error().message));
      filters.push_back(*match);
    }
  }
  auto id = manager_.create(q, filters);
  if (!id) return error_of(id);
  return queue_view(*manager_.queue(*id), true);
}

Result<json> ControlApi::queue_list(const json& params) {
  if (auto ok = Params(params).allow_only({}); !ok) return error_of(ok);
  json queues = json::array();
  for (const Queue* q : manager_.queues()) queues.push_back(queue_view(*q, false));
  return json{{"queues", queues}};
}

Result<json> ControlApi::queue_show(const json& params) {
  if (auto ok = Params(params).allow_only({"queue"}); !ok) return error_of(ok);
  auto q = queue_param(params);
  if (!q) return error_of(q);
  return queue_view(**q, true);
}

Result<json> ControlApi::queue_set(const json& params) {
  const Params p(params);
  if (auto ok = p.allow_only({"queue", "cpu", "name", "vm"}); !ok) return error_of(ok);
  auto q = queue_param(params);
  auto cpu = p.optional_uint("cpu", 4095);
  auto name = p.optional_string("name");
  auto vm = p.optional_string("vm");
  if (!q) return error_of(q);
  if (!cpu) return error_of(cpu);
  if (!name) return error_of(name);
  if (!vm) return error_of(vm);
  if (!*cpu && !*name && !*vm) return fail(Errc::invalid_argument, "nothing to change: give cpu, name or vm");
  const QueueId id = (*q)->id;
  // Check every change before making any, so that a refusal changes nothing.
  if (*name) {
    if (auto ok = check_queue_name(**name); !ok) return error_of(ok);
    for (const Queue* other : manager_.queues())
      if (other->id != id && other->name == **name)
        return fail(Errc::conflict, fmt::format("queue {}: the name {} is already used by queue {}", (*q)->name,
                                                **name, other->id));
  }
  if (*vm) {
    if (auto ok = check_vm_name(**vm); !ok) return error_of(ok);
  }
  if (*cpu) {
    if (auto ok = manager_.set_cpu(id, static_cast<unsigned>(**cpu)); !ok) return error_of(ok);
  }
  if (*name) {
    if (auto ok = manager_.rename(id, **name); !ok) return error_of(ok);
  }
  if (*vm) {
    if (auto ok = manager_.set_vm(id, **vm); !ok) return error_of(ok);
  }
  return queue_view(*manager_.queue(id), true);
}

Result<json> ControlApi::queue_pause(const json& params) {
  if (auto ok = Params(params).allow_only({"queue"}); !ok) return error_of(ok);
  auto q = queue_param(params);
  if (!q) return error_of(q);
  if (auto ok = manager_.pause((*q)->id); !ok) return error_of(ok);
  return queue_view(**q, true);
}

Result<json> ControlApi::queue_resume(const json& params) {
  if (auto ok = Params(params).allow_only({"queue"}); !ok) return error_of(ok);
  auto q = queue_param(params);
  if (!q) return error_of(q);
  if (auto ok = manager_.resume((*q)->id); !ok) return error_of(ok);
  return queue_view(**q, true);
}

Result<json> ControlApi::queue_del(const json& params) {
  if (auto ok = Params(params).allow_only({"queue"}); !ok) return error_of(ok);
  auto q = queue_param(params);
  if (!q) return error_of(q);
  const QueueId id = (*q)->id;
  const std::string name = (*q)->name;
  auto drained = manager_.remove(id);
  if (!drained) return error_of(drained);
  return json{{"id", id}, {"name", name}, {"drained_frames", drained->frames}, {"drain_us", drained->duration.count()}};
}

Result<json> ControlApi::filter_add(const json& params) {
  const Params p(params);
  if (auto ok = p.allow_only({"queue", "mac", "vlan"}); !ok) return error_of(ok);
  auto q = queue_param(params);
  if (!q) return error_of(q);
  json match_params = params;
  match_params.erase("queue");
  auto match = filter_match_from(match_params, "the filter");
  if (!match) return fail(Errc::invalid_argument, fmt::format("queue {}: {}", (*q)->name, match.error().message));
  auto id = manager_.set_filter((*q)->id, *match);
  if (!id) return error_of(id);
  return filter_json(*manager_.filter(*id), manager_, telemetry_);
}

Result<json> ControlApi::filter_list(const json& params) {
  const Params p(params);
  if (auto ok = p.allow_only({"queue"}); !ok) return error_of(ok);
  json filters = json::array();
  if (p.find("queue")) {
    auto q = queue_param(params);
    if (!q) return error_of(q);
    for (const Filter* f : manager_.filters_of((*q)->id)) filters.push_back(filter_json(*f, manager_, telemetry_));
  } else {
    for (const Queue* q : manager_.queues())
      for (const Filter* f : manager_.filters_of(q->id)) filters.push_back(filter_json(*f, manager_, telemetry_));
  }
  return json{{"filters", filters}};
}

Result<json> ControlApi::filter_del(const json& params) {
  const Params p(params);
  if (auto ok = p.allow_only({"filter"}); !ok) return error_of(ok);
  auto id = p.optional_uint("filter", UINT32_MAX);
  if (!id) return error_of(id);
  if (!*id) return fail(Errc::invalid_argument, "parameter 'filter' is required");
  const Filter* f = manager_.filter(static_cast<FilterId>(**id));
  if (!f) return fail(Errc::not_found, fmt::format("no filter with id {}", **id));
  const json removed = filter_json(*f, manager_, telemetry_);
  if (auto ok = manager_.clear_filter(f->id); !ok) return error_of(ok);
  return removed;
}

Result<json> ControlApi::stats(const json& params) {
  const Params p(params);
  if (auto ok = p.allow_only({"queue"}); !ok) return error_of(ok);
    json queues = json::array();
  if (p.find("queue")) {
    auto q = queue_param(params);
    if (!q) return error_of(q);
    queues.push_back(queue_view(**q, true));
  } else {
    for (const Queue* q : manager_.queues()) queues.push_back(queue_view(*q, true));
  }
  json uplinks = json::array();
  for (const auto& u : telemetry_.uplinks()) {
    auto by_reason = telemetry_.default_queue_stats(u.name);
    auto umem = telemetry_.umem_stats(u.name);
    auto tables = telemetry_.classifier_tables(u.name);
    if (!by_reason) return error_of(by_reason);
    if (!umem) return error_of(umem);
    if (!tables) return error_of(tables);
    uplinks.push_back({{"name", u.name},
                       {"default_queue", default_queue_json(*by_reason)},
                       {"umem", umem_json(*umem)},
                       {"classifier", {{"filters", tables->filters}, {"queues", tables->queues}}}});
  }
  json workers = json::array();
  for (const WorkerLoad& w : manager_.worker_loads()) workers.push_back(worker_json(w));
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto uptime = std::chrono::steady_clock::now() - info_.started;
  return json{{"timestamp_ms", std::chrono::duration_cast<std::chrono::milliseconds>(now).count()},
              {"uptime_ms", std::chrono::duration_cast<std::chrono::milliseconds>(uptime).count()},
              {"uplinks", uplinks},
              {"workers", workers},
              {"queues", queues}};
}

Result<json> ControlApi::trace(const json& params) {
  const Params p(params);
  if (auto ok = p.allow_only({"uplink", "dst", "src", "vlan", "vlan2", "rx_queue"}); !ok) return error_of(ok);
  auto uplink = p.string("uplink");
  auto dst_text = p.string("dst");
  auto src_text = p.optional_string("src");
  auto vlan = p.optional_uint("vlan", 4095);
  auto vlan2 = p.optional_uint("vlan2", 4095);
  auto rxq = p.optional_uint("rx_queue", 1023);
  if (!uplink) return error_of(uplink);
  if (!dst_text) return error_of(dst_text);
  if (!src_text) return error_of(src_text);
  if (!vlan) return error_of(vlan);
  if (!vlan2) return error_of(vlan2);
  if (!rxq) return error_of(rxq);
  if (*vlan2 && !*vlan) return fail(Errc::invalid_argument, "an inner tag (vlan2) needs an outer one (vlan)");
  auto dst = MacAddress::parse(*dst_text);
  if (!dst) return error_of(dst);
  FrameBuilder builder;
  builder.dst(*dst);
  if (*src_text) {
    auto src = MacAddress::parse(**src_text);
    if (!src) return error_of(src);
    builder.src(*src);
  }
  // Two tags are QinQ: an 802.1ad outer tag, an 802.1Q inner one.
  if (*vlan) builder.tag(static_cast<std::uint16_t>(**vlan), *vlan2 ? kTpid8021AD : kTpid8021Q);
  if (*vlan2) builder.tag(static_cast<std::uint16_t>(**vlan2));
  const auto frame = builder.build();
  auto verdict = tracer_.trace(*uplink, frame, static_cast<std::uint32_t>(rxq->value_or(0)));
  if (!verdict) return error_of(verdict);

  const std::uint16_t key_vlan = *vlan ? static_cast<std::uint16_t>(**vlan) : std::uint16_t{0};
  const auto vlan_text = key_vlan ? fmt::format("VLAN {}", key_vlan) : std::string("untagged");
  json out{{"uplink", *uplink},
           {"rx_queue", rxq->value_or(0)},
           {"frame", {{"dst", dst->to_string()}, {"vlan", *vlan ? json(**vlan) : json(nullptr)},
                      {"vlan2", *vlan2 ? json(**vlan2) : json(nullptr)}, {"length", frame.size()}}},
           {"output_length", verdict->frame.size()}};
  if (verdict->action == XDP_REDIRECT) {
    const Queue* q = manager_.queue(verdict->queue);
    const Filter* f = manager_.filter(verdict->filter);
    out["destination"] = "queue";
    out["queue"] = {{"id", verdict->queue}, {"name", q ? q->name : ""}};
    out["filter"] = {{"id", verdict->filter}};
    out["tag_removed"] = frame.size() != verdict->frame.size();
    out["explanation"] = fmt::format("delivered to queue {} (id {}) by filter {} ({}){}", q ? q->name : "?",
                                     verdict->queue, verdict->filter, f ? f->match.describe() : "?",
                                     frame.size() != verdict->frame.size() ? ", VLAN tag removed (access mode)" : "");
    return out;
  }
  out["destination"] = "default";
  const auto reason = verdict->reason.value_or(VMQ_DEFAULT_NO_FILTER);
  out["reason"] = to_string(reason);
  std::string why;
  switch (reason) {
    case VMQ_DEFAULT_NO_FILTER:
      why = fmt::format("no filter matches MAC {} {}", dst->to_string(), vlan_text);
      break;
    case VMQ_DEFAULT_QUEUE_NOT_RUNNING: {
      // The verdict names the filter the frame's key matched and its queue.
      const Queue* q = verdict->filter ? manager_.queue(verdict->queue) : nullptr;
      why = q ? fmt::format("filter {} matches, but queue {} is {}", verdict->filter, q->name,
                            to_string(q->visible_state()))
              : "a filter matches, but its queue is not running";
      if (q) out["queue"] = {{"id", q->id}, {"name", q->name}};
      break;
    }
    case VMQ_DEFAULT_BROADCAST_MULTICAST: why = "broadcast and multicast frames always go to the default queue"; break;
    case VMQ_DEFAULT_MALFORMED: why = "the frame is malformed"; break;
    case VMQ_DEFAULT_EMPTY_SLOT:
      why = fmt::format("filter {} matches, but its queue has no socket on rx queue {}", verdict->filter,
                        rxq->value_or(0));
      break;
    case VMQ_DEFAULT_OVERSIZE: why = "the frame is longer than a queue's buffer"; break;
    case VMQ_DEFAULT_REASON_COUNT: break;
  }
  if (verdict->filter) out["filter"] = {{"id", verdict->filter}};
  out["explanation"] = "default queue (the host's switch): " + why;
  return out;
}

Result<json> ControlApi::migrate_drain(const json& params) {
  auto result = drain_for_migration(params);
  if (!result) ++migrations_.drain_failures;
  return result;
}

Result<json> ControlApi::migrate_restore(const json& params) {
  auto result = restore_from_migration(params);
  if (!result) ++migrations_.restore_failures;
  return result;
}

// Live migration, source side: new frames take the default path from the
// moment the filters are cleared; what the queue holds is delivered; DMA
// stopped is indicated once; the queue is freed and described.
Result<json> ControlApi::drain_for_migration(const json& params) {
  if (auto ok = Params(params).allow_only({"queue"}); !ok) return error_of(ok);
  auto q = queue_param(params);
  if (!q) return error_of(q);
  const Queue queue = **q;
  MigrationDocument doc{info_.host_id, utc_now(), queue.name, queue.vm, queue.uplink, queue.port, queue.cpu,
                        queue.frames, queue.vlan_mode, queue.paused_by_operator, {}, {}, 0, 0};
  for (const Filter* f : manager_.filters_of(queue.id)) doc.filters.push_back(f->match);
  const std::uint64_t indications_before = manager_.dma_stopped_count();
  auto drained = manager_.remove(queue.id);
  if (!drained) return error_of(drained);
  doc.counters = counters_json(drained->final_stats);
  doc.drained_frames = drained->frames;
  doc.drain_us = static_cast<std::uint64_t>(drained->duration.count());
  migrations_.drains.observe(drained->duration);
  return json{{"document", to_json(doc)},
              {"drained_frames", drained->frames},
              {"drain_us", drained->duration.count()},
              {"dma_stopped_indications", manager_.dma_stopped_count() - indications_before}};
}

// Live migration, destination side: the queue is created with its filters
// and runs, or nothing is created at all. Restoring what is already here is
// a success, so that a hook may run it twice.
Result<json> ControlApi::restore_from_migration(const json& params) {
  const Params p(params);
  if (auto ok = p.allow_only({"document", "uplink", "port", "cpu"}); !ok) return error_of(ok);
  const json* document = p.find("document");
  if (!document) return fail(Errc::invalid_argument, "parameter 'document' is required");
  auto doc = parse_migration_document(*document);
  if (!doc) return error_of(doc);
  auto uplink = p.optional_string("uplink");
  auto port = p.optional_string("port");
  if (!uplink) return error_of(uplink);
  if (!port) return error_of(port);

  QueueParams q{doc->name, doc->vm, uplink->value_or(doc->uplink), port->value_or(doc->port), std::nullopt,
                doc->frames, doc->vlan_mode};
  std::string cpu_choice;
  if (const json* cpu = p.find("cpu"); cpu && cpu->is_string() && cpu->get<std::string>() == "auto") {
    cpu_choice = "auto";
  } else if (cpu) {
    auto given = p.optional_uint("cpu", 4095);
    if (!given) return fail(Errc::invalid_argument, "parameter 'cpu' must be a CPU number or \"auto\"");
    q.cpu = static_cast<unsigned>(**given);
    cpu_choice = "given";
  } else if (manager_.placement().check(doc->cpu)) {
    q.cpu = doc->cpu;
    cpu_choice = "document";
  } else {
    cpu_choice = "auto";  // the source's CPU is not usable here
  }

  if (auto existing = manager_.find(doc->name); existing) {
    const Queue& e = **existing;
    if (e.uplink == q.uplink && e.port == q.port && same_filters(manager_.filters_of(e.id), doc->filters))
      return json{{"queue", queue_view(e, true)}, {"already_restored", true}, {"restore_us", 0}};
    return fail(Errc::conflict, fmt::format("queue {} already exists here (id {}) with other settings", e.name, e.id));
  }
  const auto start = std::chrono::steady_clock::now();
  auto id = manager_.create(q, doc->filters);
  if (!id) return error_of(id);
  if (doc->paused_by_operator) {
    if (auto ok = manager_.pause(*id); !ok) return error_of(ok);
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
  migrations_.restores.observe(elapsed);
  return json{{"queue", queue_view(*manager_.queue(*id), true)},
              {"already_restored", false},
              {"cpu_choice", cpu_choice},
              {"restore_us", elapsed.count()},
              {"source_host", doc->source_host}};
}

}  // namespace vmq::service
