// The control API's methods (agent/api/methods.h): each decodes its typed
// parameters, does its work and returns its typed reply or a refusal. Runs
// on the agent's single control thread; the methods that wait (drains, ports
// the kernel still releases, workers' answers) await on its loop.
#pragma once

#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "api/methods.h"
#include "api/protocol.h"
#include "core/frame_tracer.h"
#include "core/queue_manager.h"
#include "core/telemetry.h"
#include "service/metrics_migrations.h"
#include "service/queue_operations.h"
#include "service/rebalancing.h"

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
  // `status` shows its CPU loads and moves (none: the CPUs without loads).
  void show_rebalancing(const Rebalancing* rebalancing) { rebalancing_ = rebalancing; }

 private:
  using Handler = std::function<Result<nlohmann::json>(const nlohmann::json& params)>;
  using AsyncHandler = std::function<boost::asio::awaitable<Result<nlohmann::json>>(const nlohmann::json& params)>;
  template <typename M>
  using MethodOf = Result<typename M::Reply> (ControlApi::*)(const typename M::Params&);
  template <typename M>
  using AsyncMethodOf = boost::asio::awaitable<Result<typename M::Reply>> (ControlApi::*)(const typename M::Params&);

  // Serves method M: its parameters decoded, its reply encoded.
  template <typename M>
  void bind(MethodOf<M> method);
  template <typename M>
  void bind(AsyncMethodOf<M> method);

  Result<api::StatusReply> status(const api::NoParams& params);
  Result<api::CapsReply> caps(const api::CapsParams& params);
  boost::asio::awaitable<Result<api::Queue>> queue_add(const api::QueueAddParams& params);
  Result<api::QueueListReply> queue_list(const api::NoParams& params);
  Result<api::Queue> queue_show(const api::QueueSelector& params);
  boost::asio::awaitable<Result<api::Queue>> queue_set(const api::QueueSetParams& params);
  Result<api::Queue> queue_pause(const api::QueueSelector& params);
  boost::asio::awaitable<Result<api::Queue>> queue_resume(const api::QueueSelector& params);
  boost::asio::awaitable<Result<api::QueueDelReply>> queue_del(const api::QueueSelector& params);
  Result<api::Filter> filter_add(const api::FilterAddParams& params);
  Result<api::FilterListReply> filter_list(const api::FilterListParams& params);
  Result<api::Filter> filter_del(const api::FilterDelParams& params);
  Result<api::StatsReply> stats(const api::StatsParams& params);
  Result<api::TraceReply> trace(const api::TraceParams& params);
  boost::asio::awaitable<Result<api::MigrateDrainReply>> migrate_drain(const api::QueueSelector& params);
  boost::asio::awaitable<Result<api::MigrateRestoreReply>> migrate_restore(const api::MigrateRestoreParams& params);
  boost::asio::awaitable<Result<api::MigrateDrainReply>> drain_for_migration(const api::QueueSelector& params);
  boost::asio::awaitable<Result<api::MigrateRestoreReply>> restore_from_migration(const api::MigrateRestoreParams& params);

  api::Queue queue_view(const Queue& queue, bool detail) const;

  QueueManager& manager_;
  const Telemetry& telemetry_;
  FrameTracer& tracer_;
  AgentInfo info_;
  SaveState save_state_;
  MigrationMetrics migrations_;
  QueueOperations operations_;
  const Rebalancing* rebalancing_ = nullptr;
  std::map<std::string, Handler, std::less<>> methods_;
  std::map<std::string, AsyncHandler, std::less<>> async_methods_;  // the methods that wait
};

}  // namespace vmq::service
