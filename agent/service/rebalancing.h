// Dynamic VMQ's loop (vmq-spec F10, docs/rebalancing.md): every interval it
// measures each allowed CPU's load (the share its worker took plus the
// kernel's softirq share of it) and each queue's frame rate, asks the policy
// (core/rebalancer.h) for moves, and makes them through the lossless move
// path. It measures even while disabled: `vmqctl status` shows the loads.
#pragma once

#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "core/log.h"
#include "core/queue_manager.h"
#include "core/rebalancer.h"
#include "core/telemetry.h"
#include "core/worker_load.h"
#include "service/config.h"
#include "service/queue_operations.h"

namespace vmq::service {

class Rebalancing {
 public:
  // Each CPU's softirq time since boot (os::cpu_softirq_times on a host).
  using SoftirqClock = std::function<Result<std::map<unsigned, std::chrono::nanoseconds>>()>;

  struct CpuMeasure {
    unsigned cpu = 0;
    double worker_share = 0;
    double softirq_share = 0;
    double busy_share = 0;  // the two, at most 1
  };

  using SaveState = std::function<Result<void>()>;

  // `save_state` runs after each move (the queue's new CPU survives a restart).
  Rebalancing(boost::asio::io_context& io, QueueManager& manager, const Telemetry& telemetry, SoftirqClock softirq,
              SaveState save_state, LogSink log, OperationTiming timing = {});

  // Takes new settings (start, SIGHUP): the policy starts over when they or
  // the allowed CPUs change. Then a round every interval_ms.
  void configure(const RebalanceConfig& config);
  void stop() { timer_.cancel(); }

  // One round: measure; with two measurements, decide and start the moves.
  void round(std::chrono::steady_clock::time_point now);

  const RebalanceConfig& config() const { return config_; }
  // Loads over the last round; empty before the second.
  const std::vector<CpuMeasure>& loads() const { return loads_; }
  std::uint64_t spread_moves() const { return moves_spread_; }
  std::uint64_t pack_moves() const { return moves_pack_; }
  std::uint64_t moves() const { return moves_spread_ + moves_pack_; }

 private:
  struct Sample {
    std::chrono::steady_clock::time_point at;
    std::map<unsigned, std::chrono::nanoseconds> softirq;
    std::map<QueueId, std::uint64_t> received;
  };

  void schedule();
  Sample measure(std::chrono::steady_clock::time_point now);
  std::vector<QueueLoad> queue_loads(const Sample& now) const;
  boost::asio::awaitable<void> make_move(QueueMove move);

  boost::asio::io_context& io_;
  QueueManager& manager_;
  const Telemetry& telemetry_;
  SoftirqClock softirq_;
  SaveState save_state_;
  LogSink log_;
  QueueOperations operations_;
  boost::asio::steady_timer timer_;
  RebalanceConfig config_;
  std::optional<Rebalancer> policy_;
  std::set<unsigned> policy_cpus_;
  WorkerLoadMeter workers_;
  std::optional<Sample> last_;
  std::vector<CpuMeasure> loads_;
  unsigned moves_in_flight_ = 0;
  std::uint64_t moves_spread_ = 0;
  std::uint64_t moves_pack_ = 0;
};

}  // namespace vmq::service
