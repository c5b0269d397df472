// Everything /metrics shows, read in one go from the same sources as
// `vmqctl --json` (the queue manager and the dataplane's counters, as
// views.cpp reads them). A counter vmqd could not read is absent here, never
// a zero, so the exposition leaves it out.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/telemetry.h"
#include "core/queue_manager.h"
#include "service/metrics_migrations.h"

namespace vmq::service {

struct AgentMetrics {
  std::string version;
  double start_time_seconds = 0;  // since the Unix epoch
  std::size_t queues = 0;
  std::size_t filters = 0;
  std::uint32_t max_queues = 0;
  std::uint32_t max_filters = 0;
};

struct UplinkMetrics {
  UplinkInfo info;
  std::optional<DefaultQueueStats> default_queue;
  std::optional<UmemStats> umem;
  std::optional<ClassifierTables> tables;
};

struct QueueMetrics {
  std::string name;
  std::string vm;
  std::string uplink;
  unsigned cpu = 0;
  std::uint32_t frames = 0;
  QueueState state = QueueState::undefined;  // as the classifier sees it (an operator's pause shows as paused)
  bool paused_by_operator = false;
  std::optional<QueueStats> counters;
};

struct CpuBusy {
  unsigned cpu = 0;
  double busy_share = 0;
};

// Dynamic VMQ: the CPU loads of the last round and the moves so far.
struct RebalancingMetrics {
  bool enabled = false;
  std::vector<CpuBusy> cpus;  // empty until measured
  std::uint64_t spread_moves = 0;
  std::uint64_t pack_moves = 0;
};

struct MetricsSnapshot {
  AgentMetrics agent;
  std::vector<UplinkMetrics> uplinks;
  std::vector<QueueMetrics> queues;
  std::vector<WorkerLoad> workers;
  MigrationMetrics migrations;
  RebalancingMetrics rebalancing;
};

// `agent` carries what the manager does not know (version, start time); its
// counts are filled in here.
class Rebalancing;
RebalancingMetrics rebalancing_metrics(const Rebalancing& rebalancing);

MetricsSnapshot collect_metrics(const QueueManager& manager, const Telemetry& telemetry, AgentMetrics agent, const MigrationMetrics& migrations);

}  // namespace vmq::service
