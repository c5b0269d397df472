#include "service/metrics_render.h"

#include <array>
#include <chrono>
#include <functional>

#include "core/default_reason.h"
#include "service/metrics_exposition.h"

namespace vmq::service {

namespace {

constexpr std::array kQueueStates = {QueueState::allocated, QueueState::set,         QueueState::running,
                                     QueueState::paused,    QueueState::dma_stopped, QueueState::freeing};

Labels queue_labels(const QueueMetrics& q) { return {{"queue", q.name}, {"vm", q.vm}, {"uplink", q.uplink}}; }

Labels with(Labels labels, std::string name, std::string value) {
  labels.push_back({std::move(name), std::move(value)});
  return labels;
}

std::uint64_t flag(bool b) { return b ? 1 : 0; }

void agent_metrics(Exposition& out, const AgentMetrics& a) {
  out.family("vmq_build_info", MetricType::gauge, "vmqd's version; always 1.");
  out.sample({{"version", a.version}}, std::uint64_t{1});
  out.family("vmq_start_time_seconds", MetricType::gauge, "When vmqd started, in seconds since the Unix epoch.");
  out.sample({}, a.start_time_seconds);
  out.family("vmq_queues", MetricType::gauge, "VM queues that exist (the default queue not counted).");
  out.sample({}, std::uint64_t{a.queues});
  out.family("vmq_queues_limit", MetricType::gauge, "Most VM queues vmqd accepts (max_queues).");
  out.sample({}, std::uint64_t{a.max_queues});
  out.family("vmq_filters", MetricType::gauge, "Filters over all queues.");
  out.sample({}, std::uint64_t{a.filters});
  out.family("vmq_filters_limit", MetricType::gauge, "Most filters vmqd accepts (max_filters).");
  out.sample({}, std::uint64_t{a.max_filters});
}

void uplink_metrics(Exposition& out, const std::vector<UplinkMetrics>& uplinks) {
  out.family("vmq_classifier_info", MetricType::gauge,
             "The classifier on an uplink: its build and how it is attached; always 1.");
  for (const auto& u : uplinks)
    out.sample({{"uplink", u.info.name},
                {"build", u.info.multi_buffer ? "multi-buffer" : "single-buffer"},
                {"attach_mode", u.info.attach_mode},
                {"attach_method", u.info.attach_method}},
               std::uint64_t{1});
  out.family("vmq_uplink_degraded", MetricType::gauge,
             "1 while vmq's classifier is no longer the program attached to the uplink.");
  for (const auto& u : uplinks) out.sample({{"uplink", u.info.name}}, flag(u.info.degraded));
  out.family("vmq_uplink_rx_queues", MetricType::gauge, "Receive queues of the uplink that vmq serves.");
  for (const auto& u : uplinks) out.sample({{"uplink", u.info.name}}, std::uint64_t{u.info.rx_queues});
  out.family("vmq_uplink_counters_readable", MetricType::gauge,
             "1 when vmqd could read the uplink's default-queue, UMEM and classifier-table counters; 0 when any "
             "of them could not be read (they are then left out).");
  for (const auto& u : uplinks)
    out.sample({{"uplink", u.info.name}}, flag(u.default_queue && u.umem && u.tables));

  out.family("vmq_default_queue_frames_total", MetricType::counter,
             "Frames the classifier passed to the host's switch (the default queue), by reason.");
  for (const auto& u : uplinks)
    if (u.default_queue)
      for (DefaultReason r : kDefaultReasons)
        out.sample({{"uplink", u.info.name}, {"reason", std::string(to_string(r))}},
                   u.default_queue->by_reason[index_of(r)].packets);
  out.family("vmq_default_queue_bytes_total", MetricType::counter,
             "Bytes of the frames the classifier passed to the host's switch (the default queue), by reason.");
  for (const auto& u : uplinks)
    if (u.default_queue)
      for (DefaultReason r : kDefaultReasons)
        out.sample({{"uplink", u.info.name}, {"reason", std::string(to_string(r))}},
                   u.default_queue->by_reason[index_of(r)].bytes);

  struct UmemGauge {
    const char* name;
    const char* help;
    std::uint64_t UmemStats::*field;
  };
  static constexpr std::array kUmem = {
      UmemGauge{"vmq_umem_frames", "Frames of the uplink's UMEM.", &UmemStats::frames_total},
      UmemGauge{"vmq_umem_frames_in_kernel", "UMEM frames given to the kernel (fill rings, RX rings): free for "
                "receiving or received and not yet taken by a worker.", &UmemStats::frames_in_kernel},
      UmemGauge{"vmq_umem_frames_in_flight", "UMEM frames submitted to a VM's port and not yet completed.",
                &UmemStats::frames_in_flight},
      UmemGauge{"vmq_umem_frames_in_worker", "UMEM frames a worker holds for an instant.",
                &UmemStats::frames_in_worker},
      UmemGauge{"vmq_umem_frames_lost", "UMEM frames that will never come back (should stay 0).",
                &UmemStats::frames_lost},
      UmemGauge{"vmq_umem_fill_ring_entries", "Frames in the uplink's fill rings, read from the rings.",
                &UmemStats::fill_ring_entries},
  };
  for (const auto& g : kUmem) {
    out.family(g.name, MetricType::gauge, g.help);
    for (const auto& u : uplinks)
      if (u.umem) out.sample({{"uplink", u.info.name}}, (*u.umem).*g.field);
  }
  out.family("vmq_classifier_filters", MetricType::gauge, "Entries of the classifier's filter table (from the map).");
  for (const auto& u : uplinks)
    if (u.tables) out.sample({{"uplink", u.info.name}}, std::uint64_t{u.tables->filters});
  out.family("vmq_classifier_queues", MetricType::gauge, "Entries of the classifier's queue table (from the map).");
  for (const auto& u : uplinks)
    if (u.tables) out.sample({{"uplink", u.info.name}}, std::uint64_t{u.tables->queues});
}

void queue_state_metrics(Exposition& out, const std::vector<QueueMetrics>& queues) {
  out.family("vmq_queue_state", MetricType::gauge,
             "1 for the state the queue is in as the classifier sees it, 0 for the others (only running "
             "receives).");
  for (const auto& q : queues)
    for (const QueueState state : kQueueStates)
      out.sample(with(queue_labels(q), "state", std::string(to_string(state))), flag(q.state == state));
  out.family("vmq_queue_paused_by_operator", MetricType::gauge, "1 while `vmqctl queue pause` is in effect.");
  for (const auto& q : queues) out.sample(queue_labels(q), flag(q.paused_by_operator));
  out.family("vmq_queue_cpu", MetricType::gauge, "The CPU whose worker serves the queue.");
  for (const auto& q : queues) out.sample(queue_labels(q), std::uint64_t{q.cpu});
  out.family("vmq_queue_frames", MetricType::gauge, "The queue's RX ring size and in-flight quota, in frames.");
  for (const auto& q : queues) out.sample(queue_labels(q), std::uint64_t{q.frames});
  out.family("vmq_queue_counters_readable", MetricType::gauge,
             "1 when vmqd could read the queue's counters; 0 when it could not (they are then left out).");
  for (const auto& q : queues) out.sample(queue_labels(q), flag(q.counters.has_value()));
}

void queue_counter_metrics(Exposition& out, const std::vector<QueueMetrics>& queues) {
  struct QueueSeries {
    const char* name;
    MetricType type;
    const char* help;
    std::function<std::uint64_t(const QueueStats&)> value;
  };
  const std::array series = {
      QueueSeries{"vmq_queue_classified_frames_total", MetricType::counter,
                  "Frames the classifier redirected to the queue.", [](const QueueStats& s) { return s.classified.packets; }},
      QueueSeries{"vmq_queue_classified_bytes_total", MetricType::counter,
                  "Bytes of the frames the classifier redirected to the queue.",
                  [](const QueueStats& s) { return s.classified.bytes; }},
      QueueSeries{"vmq_queue_received_frames_total", MetricType::counter,
                  "Frames the queue's worker took from its RX rings.", [](const QueueStats& s) { return s.received; }},
      QueueSeries{"vmq_queue_delivered_frames_total", MetricType::counter,
                  "Frames the VM's port transmitted (counted when the transmit completed).",
                  [](const QueueStats& s) { return s.delivered.packets; }},
      QueueSeries{"vmq_queue_delivered_bytes_total", MetricType::counter,
                  "Bytes of the frames the VM's port transmitted.", [](const QueueStats& s) { return s.delivered.bytes; }},
      QueueSeries{"vmq_queue_checksum_completed_frames_total", MetricType::counter,
                  "Delivered frames whose TCP/UDP checksum their sender had deferred and vmq completed.",
                  [](const QueueStats& s) { return s.checksum_completed; }},
      QueueSeries{"vmq_queue_port_errors_total", MetricType::counter,
                  "Transmit kicks the VM's port refused (port down or gone).",
                  [](const QueueStats& s) { return s.port_errors; }},
      QueueSeries{"vmq_queue_rx_fill_ring_empty_total", MetricType::counter,
                  "Times the kernel found the fill ring empty for the queue's sockets (XDP_STATISTICS).",
                  [](const QueueStats& s) { return s.xsk_rx_fill_ring_empty; }},
      QueueSeries{"vmq_queue_rx_invalid_descriptors_total", MetricType::counter,
                  "Invalid RX descriptors the kernel saw on the queue's sockets (XDP_STATISTICS).",
                  [](const QueueStats& s) { return s.xsk_rx_invalid_descs; }},
      QueueSeries{"vmq_queue_tx_invalid_descriptors_total", MetricType::counter,
                  "Invalid TX descriptors the kernel saw on the queue's port socket (XDP_STATISTICS).",
                  [](const QueueStats& s) { return s.xsk_tx_invalid_descs; }},
      QueueSeries{"vmq_queue_in_flight_frames", MetricType::gauge,
                  "Frames submitted to the VM's port and not yet completed.",
                  [](const QueueStats& s) { return s.in_flight; }},
  };
  for (const auto& m : series) {
    out.family(m.name, m.type, m.help);
    for (const auto& q : queues)
      if (q.counters) out.sample(queue_labels(q), m.value(*q.counters));
  }

  out.family("vmq_queue_dropped_frames_total", MetricType::counter,
             "Frames classified to the queue that did not reach the VM, by reason: port_full, quota, port_refused "
             "(by vmq's worker or at the port), rx_ring_full, rx_dropped (by the kernel before the worker saw them).");
  for (const auto& q : queues) {
    if (!q.counters) continue;
    const QueueStats& s = *q.counters;
    for (const auto& [reason, value] : {std::pair{"port_full", s.dropped_port_full}, {"quota", s.dropped_quota},
                                        {"port_refused", s.dropped_port_refused}, {"rx_ring_full", s.xsk_rx_ring_full},
                                        {"rx_dropped", s.xsk_rx_dropped}})
      out.sample(with(queue_labels(q), "reason", reason), value);
  }
}

void worker_metrics(Exposition& out, const std::vector<WorkerLoad>& workers) {
  auto cpu = [](const WorkerLoad& w) { return Labels{{"cpu", std::to_string(w.totals.cpu)}}; };
  out.family("vmq_worker_queues", MetricType::gauge, "Queues the worker on this CPU serves.");
  for (const auto& w : workers) out.sample(cpu(w), std::uint64_t{w.totals.queues});
  out.family("vmq_worker_frames_total", MetricType::counter,
             "Frames the worker's queues took from their RX rings since the worker started.");
  for (const auto& w : workers) out.sample(cpu(w), w.totals.frames);
  out.family("vmq_worker_cpu_seconds_total", MetricType::counter,
             "CPU time of the worker thread (user and system) since it started.");
  for (const auto& w : workers) out.sample(cpu(w), std::chrono::duration<double>(w.totals.cpu_time).count());
  out.family("vmq_worker_busy_ratio", MetricType::gauge,
             "Share of its CPU the worker used over the last second (0 to 1).");
  for (const auto& w : workers)
    if (w.busy_share) out.sample(cpu(w), *w.busy_share);
  out.family("vmq_worker_seconds_per_frame", MetricType::gauge,
             "The worker's CPU time per frame over the last second (absent while no frame flowed).");
  for (const auto& w : workers)
    if (w.ns_per_frame) out.sample(cpu(w), *w.ns_per_frame * 1e-9);
}

void rebalancer_metrics(Exposition& out, const RebalancingMetrics& r) {
  out.family("vmq_rebalancer_enabled", MetricType::gauge, "1 when the rebalancer moves auto queues between CPUs.");
  out.sample({}, std::uint64_t{r.enabled});
  out.family("vmq_rebalancer_moves_total", MetricType::counter,
             "Queues the rebalancer moved: spread off an overloaded CPU, or packed onto fewer CPUs.");
  out.sample({{"kind", "spread"}}, r.spread_moves);
  out.sample({{"kind", "pack"}}, r.pack_moves);
  out.family("vmq_cpu_busy_ratio", MetricType::gauge,
             "Share of each allowed CPU its worker and the kernel's softirq work took over the last rebalancing "
             "round (0 to 1).");
  for (const CpuBusy& c : r.cpus) out.sample({{"cpu", std::to_string(c.cpu)}}, c.busy_share);
}

void migration_metrics(Exposition& out, const MigrationMetrics& m) {
  out.family("vmq_migration_drain_duration_seconds", MetricType::histogram,
             "Queues drained for live migration (vmqctl migrate drain) and how long each drain took.");
  out.sample({}, m.drains.sample());
  out.family("vmq_migration_restore_duration_seconds", MetricType::histogram,
             "Queues created from a migration document (vmqctl migrate restore) and how long each took.");
  out.sample({}, m.restores.sample());
  out.family("vmq_migration_drain_failures_total", MetricType::counter, "migrate drain requests refused or failed.");
  out.sample({}, m.drain_failures);
  out.family("vmq_migration_restore_failures_total", MetricType::counter,
             "migrate restore requests refused or failed.");
  out.sample({}, m.restore_failures);
}

}  // namespace

std::string render_metrics(const MetricsSnapshot& s) {
  Exposition out;
  agent_metrics(out, s.agent);
  uplink_metrics(out, s.uplinks);
  queue_state_metrics(out, s.queues);
  queue_counter_metrics(out, s.queues);
  worker_metrics(out, s.workers);
  migration_metrics(out, s.migrations);
  rebalancer_metrics(out, s.rebalancing);
  return out.text();
}

}  // namespace vmq::service
