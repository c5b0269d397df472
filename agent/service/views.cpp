#include "service/views.h"

#include <chrono>

#include <fmt/format.h>

#include "core/default_reason.h"
#include "service/api_records.h"

namespace vmq::service {

api::Uplink uplink_view(const UplinkInfo& u) {
  return {u.name,
          u.rx_queues,
          u.attach_mode,
          u.attach_method,
          u.program_id,
          u.degraded,
          u.degraded ? std::optional(u.degraded_reason) : std::nullopt,
          u.max_frame_len,
          u.mtu,
          u.multi_buffer ? "multi-buffer" : "single-buffer"};
}

api::Filter filter_view(const Filter& f, const QueueManager& manager, const Telemetry& telemetry) {
  const Queue* q = manager.queue(f.queue);
  api::Filter view{f.id, {f.queue, q ? q->name : ""}, rule_of(f.match), std::nullopt, std::nullopt};
  if (!q) {
    view.hits_error = fmt::format("queue {} is not known", f.queue);
    return view;
  }
  // A counter that could not be read is null, with the reason beside it: never a zero.
  if (auto hits = telemetry.filter_hits(q->uplink, f.id))
    view.hits = *hits;
  else
    view.hits_error = hits.error().message;
  return view;
}

api::Counters counters_view(const QueueStats& s) {
  return {{s.classified.packets, s.classified.bytes},
          s.received,
          {s.delivered.packets, s.delivered.bytes},
          s.checksum_completed,
          {s.dropped_port_full, s.dropped_quota, s.dropped_port_refused},
          s.port_errors,
          s.in_flight,
          {s.xsk_rx_dropped, s.xsk_rx_ring_full, s.xsk_rx_fill_ring_empty, s.xsk_rx_invalid_descs,
           s.xsk_tx_invalid_descs},
          s.leg ? std::optional(api::LegCounters{s.leg->to_guest, s.leg->to_guest_refused, s.leg->from_guest})
                : std::nullopt};
}

api::Queue queue_view(const Queue& q, const QueueManager& manager, const Telemetry& telemetry, bool detail) {
  api::Queue view;
  view.id = q.id;
  view.settings = settings_of(q);
  view.cpu = q.cpu;
  view.cpu_mode = q.cpu_pinned ? "pinned" : "auto";
  view.state = to_string(q.visible_state());
  view.ndis_state = to_string(q.state);
  if (!q.last_error.empty()) view.last_error = q.last_error;
  for (const Filter* f : manager.filters_of(q.id)) view.filters.push_back(filter_view(*f, manager, telemetry));
  auto stats = telemetry.queue_stats(q.id);
  if (stats)
    view.counters = counters_view(*stats);
  else
    view.counters_error = stats.error().message;
  if (detail) view.worker = api::QueueWorker{stats ? static_cast<std::uint32_t>(stats->worker_tid) : 0u, q.cpu};
  const std::vector<unsigned> cpus = q.cpus();
  for (unsigned i = 0; i < cpus.size(); ++i) {
    api::SubQueue sub{i, cpus[i], std::nullopt};
    if (stats && i < stats->sub_queues.size()) {
      const SubQueueStats& s = stats->sub_queues[i];
      sub.counters = api::SubQueueCounters{s.received, {s.delivered.packets, s.delivered.bytes}, s.dropped};
    }
    view.sub_queues.push_back(sub);
  }
  if (q.last_move) {
    const QueueMoveRecord& m = *q.last_move;
    view.last_move = api::QueueMove{
        m.from, m.to, m.by == MoveOrigin::rebalancer ? "rebalancer" : "operator", m.reason,
        static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(m.at.time_since_epoch()).count())};
  }
  return view;
}

api::DefaultQueueTraffic default_queue_view(const DefaultQueueStats& stats) {
  api::DefaultQueueTraffic view;
  for (DefaultReason r : kDefaultReasons) {
    const Traffic& t = stats.by_reason[index_of(r)];
    view.by_reason.push_back({std::string(to_string(r)), {t.packets, t.bytes}});
    view.total.packets += t.packets;
    view.total.bytes += t.bytes;
  }
  return view;
}

api::Worker worker_view(const WorkerLoad& w) {
  return {w.totals.cpu,
          static_cast<std::uint32_t>(w.totals.tid),
          w.totals.queues,
          w.totals.frames,
          std::chrono::duration<double>(w.totals.cpu_time).count(),
          w.busy_share,
          w.ns_per_frame};
}

api::Umem umem_view(const UmemStats& s) {
  return {s.frames_total, s.frames_in_kernel, s.frames_in_flight, s.frames_in_worker, s.frames_lost,
          s.fill_ring_entries};
}

}  // namespace vmq::service
