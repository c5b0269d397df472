// The JSON shapes of vmq's objects, as the control API returns them and as
// docs/json.md documents them. Field names here are a stable interface.
#pragma once

#include <nlohmann/json.hpp>

#include "core/telemetry.h"
#include "core/queue_manager.h"

namespace vmq::service {

nlohmann::json uplink_json(const UplinkInfo& uplink);
nlohmann::json filter_json(const Filter& filter, const QueueManager& manager, const Telemetry& telemetry);
nlohmann::json counters_json(const QueueStats& stats);
// A queue with its filters; with `detail`, filter hits, counters and worker.
nlohmann::json queue_json(const Queue& queue, const QueueManager& manager, const Telemetry& telemetry, bool detail);
nlohmann::json default_queue_json(const DefaultQueueStats& stats);
nlohmann::json umem_json(const UmemStats& stats);
// A worker: its totals, and its busy share and CPU time per frame over the last second (null until known).
nlohmann::json worker_json(const WorkerLoad& load);

}  // namespace vmq::service
