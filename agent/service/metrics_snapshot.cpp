#include "service/metrics_snapshot.h"

#include "service/rebalancing.h"

namespace vmq::service {

namespace {

template <typename T>
std::optional<T> if_read(Result<T> result) {
  if (!result) return std::nullopt;
  return std::move(*result);
}

}  // namespace

MetricsSnapshot collect_metrics(const QueueManager& manager, const Telemetry& telemetry, AgentMetrics agent, const MigrationMetrics& migrations) {
  MetricsSnapshot s{std::move(agent), {}, {}, manager.worker_loads(), migrations, {}};
  s.agent.queues = manager.queues().size();
  s.agent.filters = manager.filter_count();
  s.agent.max_queues = manager.limits().max_queues;
  s.agent.max_filters = manager.limits().max_filters;
  for (const UplinkInfo& u : telemetry.uplinks())
    s.uplinks.push_back({u, if_read(telemetry.default_queue_stats(u.name)), if_read(telemetry.umem_stats(u.name)),
                         if_read(telemetry.classifier_tables(u.name))});
  for (const Queue* q : manager.queues())
    s.queues.push_back({q->name, q->vm, q->uplink, q->cpu, q->frames, q->visible_state(), q->paused_by_operator,
                        if_read(telemetry.queue_stats(q->id))});
  return s;
}

RebalancingMetrics rebalancing_metrics(const Rebalancing& rebalancing) {
  RebalancingMetrics out;
  out.enabled = rebalancing.config().policy.enabled;
  for (const Rebalancing::CpuMeasure& m : rebalancing.loads()) out.cpus.push_back({m.cpu, m.busy_share});
  out.spread_moves = rebalancing.spread_moves();
  out.pack_moves = rebalancing.pack_moves();
  return out;
}

}  // namespace vmq::service
