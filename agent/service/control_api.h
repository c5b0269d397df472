// The control API's methods: each takes the request's params and returns a
// JSON result or a refusal. Runs on the agent's single control thread; the
// methods that wait (drains, ports the kernel still releases, workers'
// answers) await on its loop.
#pragma once

#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "api/protocol.h"
#include "core/frame_tracer.h"
#include "core/queue_manager.h"
#include "core/telemetry.h"
#include "service/metrics_migrations.h"
#include "service/queue_operations.h"

namespace vmq::service {

struct AgentInfo {
  std::string version;
  std::string host_id;
  std::chrono::steady_clock::time_point started;
};

class ControlApi {
 public:
  using SaveState = std::function<Result<void>()>;

  ControlApi(QueueManager& manager, const Telemetry& telemetry, FrameTracer& tracer, AgentInfo info,
             SaveState save_state, OperationTiming timing = {});

  // Never throws: every failure becomes an error reply. `request` must
  // outlive the await.
  boost::asio::awaitable<api::Reply> handle(const api::Request& request);
  // Drains and restores done for live migration since vmqd started (for /metrics).
  const MigrationMetrics& migrations() const { return migrations_; }

 private:
  using Handler = Result<nlohmann::json> (ControlApi::*)(const nlohmann::json& params);
  using AsyncHandler = boost::asio::awaitable<Result<nlohmann::json>> (ControlApi::*)(const nlohmann::json& params);

  Result<nlohmann::json> status(const nlohmann::json& params);
  Result<nlohmann::json> caps(const nlohmann::json& params);
  boost::asio::awaitable<Result<nlohmann::json>> queue_add(const nlohmann::json& params);
  Result<nlohmann::json> queue_list(const nlohmann::json& params);
  Result<nlohmann::json> queue_show(const nlohmann::json& params);
  boost::asio::awaitable<Result<nlohmann::json>> queue_set(const nlohmann::json& params);
  Result<nlohmann::json> queue_pause(const nlohmann::json& params);
  boost::asio::awaitable<Result<nlohmann::json>> queue_resume(const nlohmann::json& params);
  boost::asio::awaitable<Result<nlohmann::json>> queue_del(const nlohmann::json& params);
  Result<nlohmann::json> filter_add(const nlohmann::json& params);
  Result<nlohmann::json> filter_list(const nlohmann::json& params);
  Result<nlohmann::json> filter_del(const nlohmann::json& params);
  Result<nlohmann::json> stats(const nlohmann::json& params);
  Result<nlohmann::json> trace(const nlohmann::json& params);
  boost::asio::awaitable<Result<nlohmann::json>> migrate_drain(const nlohmann::json& params);
  boost::asio::awaitable<Result<nlohmann::json>> migrate_restore(const nlohmann::json& params);
  boost::asio::awaitable<Result<nlohmann::json>> drain_for_migration(const nlohmann::json& params);
  boost::asio::awaitable<Result<nlohmann::json>> restore_from_migration(const nlohmann::json& params);

  Result<const Queue*> queue_param(const nlohmann::json& params) const;
  nlohmann::json queue_view(const Queue& queue, bool detail) const;

  QueueManager& manager_;
  const Telemetry& telemetry_;
  FrameTracer& tracer_;
  AgentInfo info_;
  SaveState save_state_;
  MigrationMetrics migrations_;
  QueueOperations operations_;
  std::map<std::string, Handler, std::less<>> methods_;
  std::map<std::string, AsyncHandler, std::less<>> async_methods_;  // the methods that wait
};

}  // namespace vmq::service
