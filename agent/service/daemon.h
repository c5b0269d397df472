// vmqd's wiring: configuration, saved state, dataplane, queue manager and
// control server and /metrics, driven by one io_context; systemd notifications, signals
// (SIGTERM/SIGINT stop, SIGHUP reloads) and the uplink watch.
#pragma once

#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>

#include "base/unique_fd.h"
#include "core/queue_manager.h"
#include "os/bpf_dataplane.h"
#include "service/config.h"
#include "service/control_api.h"
#include "service/control_server.h"
#include "service/logger.h"
#include "service/metrics_endpoint.h"
#include "service/rebalancing.h"
#include "service/state_store.h"

namespace vmq::service {

class Daemon : private QueueEvents {
 public:
  using ConfigLoader = std::function<Result<AgentConfig>()>;

  // Everything up to READY: attach, restore, listen. `load_config` is called
  // again on SIGHUP.
  static Result<std::unique_ptr<Daemon>> start(ConfigLoader load_config, Logger& logger);
  ~Daemon() override;
  // Serves until SIGTERM or SIGINT, then stops cleanly.
  void run();

 private:
  Daemon(ConfigLoader load_config, AgentConfig config, Logger& logger);
  Result<void> open();
  boost::asio::awaitable<void> restore_saved_queues(const std::vector<SavedQueue>& saved);
  Result<void> save_state();
  void watch_signals();
  void watch_uplinks();
  void keep_watchdog_fed(std::chrono::microseconds interval);
  void reload();
  boost::asio::awaitable<void> shutdown();
  std::string render_metrics() const;

  void state_changed(const Queue& queue, QueueState from, QueueState to) override;
  void dma_stopped(const Queue& queue) override;
  void publish_failed(const Queue& queue, const Error& error) override;

  ConfigLoader load_config_;
  AgentConfig config_;
  Logger& logger_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer uplink_timer_;
  boost::asio::steady_timer watchdog_timer_;
  UniqueFd state_lock_;
  StateStore store_;
  std::unique_ptr<os::BpfDataplane> dataplane_;
  std::unique_ptr<QueueManager> manager_;
  std::unique_ptr<ControlApi> api_;
  std::unique_ptr<ControlServer> server_;
  std::unique_ptr<MetricsEndpoint> metrics_;
  std::unique_ptr<Rebalancing> rebalancing_;
  std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now();
};

}  // namespace vmq::service
