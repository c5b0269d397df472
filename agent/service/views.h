// vmq's objects as the control API returns them (agent/api/views.h, and
// docs/json.md), made from the agent's records and the dataplane's counters.
#pragma once

#include "api/views.h"
#include "core/telemetry.h"
#include "core/queue_manager.h"

namespace vmq::service {

api::Uplink uplink_view(const UplinkInfo& uplink);
api::Filter filter_view(const Filter& filter, const QueueManager& manager, const Telemetry& telemetry);
api::Counters counters_view(const QueueStats& stats);
// A queue with its filters; with `detail`, its worker.
api::Queue queue_view(const Queue& queue, const QueueManager& manager, const Telemetry& telemetry, bool detail);
api::DefaultQueueTraffic default_queue_view(const DefaultQueueStats& stats);
api::Umem umem_view(const UmemStats& stats);
// A worker: its totals, and its busy share and CPU time per frame over the last second (none until known).
api::Worker worker_view(const WorkerLoad& load);

}  // namespace vmq::service
