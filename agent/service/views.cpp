#include "service/views.h"

#include "core/default_reason.h"

namespace vmq::service {

using json = nlohmann::json;

json uplink_json(const UplinkInfo& u) {
  return {{"name", u.name},
          {"rx_queues", u.rx_queues},
          {"attach_mode", u.attach_mode},
          {"attach_method", u.attach_method},
          {"program_id", u.program_id},
          {"degraded", u.degraded},
          {"degraded_reason", u.degraded ? json(u.degraded_reason) : json(nullptr)},
          {"max_frame_len", u.max_frame_len},
          {"mtu", u.mtu},
          {"classifier_build", u.multi_buffer ? "multi-buffer" : "single-buffer"}};
}

json filter_json(const Filter& f, const QueueManager& manager, const Telemetry& telemetry) {
  const Queue* q = manager.queue(f.queue);
  json j{{"id", f.id},
         {"queue", {{"id", f.queue}, {"name", q ? q->name : ""}}},
         {"mac", f.match.mac.to_string()},
         {"vlan", f.match.untagged() ? json(nullptr) : json(f.match.vlan)}};
  if (!q) return j;
  // A counter that could not be read is null, with the reason beside it: never a zero.
  if (auto hits = telemetry.filter_hits(q->uplink, f.id)) {
    j["hits"] = *hits;
  } else {
    j["hits"] = nullptr;
    j["hits_error"] = hits.error().message;
  }
  return j;
}

json counters_json(const QueueStats& s) {
  return {{"classified", {{"packets", s.classified.packets}, {"bytes", s.classified.bytes}}},
          {"received", s.received},
          {"delivered", {{"packets", s.delivered.packets}, {"bytes", s.delivered.bytes}}},
          {"checksum_completed", s.checksum_completed},
          {"dropped",
           {{"port_full", s.dropped_port_full}, {"quota", s.dropped_quota}, {"port_refused", s.dropped_port_refused}}},
          {"port_errors", s.port_errors},
          {"in_flight", s.in_flight},
          {"xsk",
           {{"rx_dropped", s.xsk_rx_dropped},
            {"rx_ring_full", s.xsk_rx_ring_full},
            {"rx_fill_ring_empty", s.xsk_rx_fill_ring_empty},
            {"rx_invalid_descs", s.xsk_rx_invalid_descs},
            {"tx_invalid_descs", s.xsk_tx_invalid_descs}}}};
}

json queue_json(const Queue& q, const QueueManager& manager, const Telemetry& telemetry, bool detail) {
  json filters = json::array();
  for (const Filter* f : manager.filters_of(q.id)) filters.push_back(filter_json(*f, manager, telemetry));
  json j{{"id", q.id},
         {"name", q.name},
         {"vm", q.vm},
         {"uplink", q.uplink},
         {"port", q.port},
         {"cpu", q.cpu},
         {"frames", q.frames},
         {"vlan_mode", to_string(q.vlan_mode)},
         {"state", to_string(q.visible_state())},
         {"ndis_state", to_string(q.state)},
         {"paused_by_operator", q.paused_by_operator},
         {"last_error", q.last_error.empty() ? json(nullptr) : json(q.last_error)},
         {"filters", filters}};
  auto stats = telemetry.queue_stats(q.id);
  if (stats) {
    j["counters"] = counters_json(*stats);
  } else {
    j["counters"] = nullptr;
    j["counters_error"] = stats.error().message;
  }
  if (detail) j["worker"] = {{"tid", stats ? stats->worker_tid : 0}, {"cpu", q.cpu}};
  return j;
}

json default_queue_json(const DefaultQueueStats& stats) {
  json j = json::object();
  std::uint64_t packets = 0, bytes = 0;
  for (std::uint32_t r = 0; r < VMQ_DEFAULT_REASON_COUNT; ++r) {
    const Traffic& t = stats.by_reason[r];
    j[std::string(to_string(static_cast<vmq_default_reason>(r)))] = {{"packets", t.packets}, {"bytes", t.bytes}};
    packets += t.packets;
    bytes += t.bytes;
  }
  j["total"] = {{"packets", packets}, {"bytes", bytes}};
  return j;
}

json worker_json(const WorkerLoad& w) {
  auto optional = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  return {{"cpu", w.totals.cpu},
          {"tid", w.totals.tid},
          {"queues", w.totals.queues},
          {"frames", w.totals.frames},
          {"cpu_seconds", std::chrono::duration<double>(w.totals.cpu_time).count()},
          {"busy_share", optional(w.busy_share)},
          {"ns_per_frame", optional(w.ns_per_frame)}};
}

json umem_json(const UmemStats& s) {
  return {{"frames_total", s.frames_total},         {"frames_in_kernel", s.frames_in_kernel},
          {"frames_in_flight", s.frames_in_flight}, {"frames_in_worker", s.frames_in_worker},
          {"frames_lost", s.frames_lost},           {"fill_ring_entries", s.fill_ring_entries}};
}

}  // namespace vmq::service
