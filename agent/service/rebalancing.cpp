#include "service/rebalancing.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <algorithm>

#include <fmt/format.h>

namespace vmq::service {

namespace asio = boost::asio;

Rebalancing::Rebalancing(asio::io_context& io, QueueManager& manager, const Telemetry& telemetry,
                         SoftirqClock softirq, SaveState save_state, LogSink log, OperationTiming timing)
    : io_(io),
      manager_(manager),
      telemetry_(telemetry),
      softirq_(std::move(softirq)),
      save_state_(std::move(save_state)),
      log_(std::move(log)),
      operations_(manager, timing),
      timer_(io) {}

void Rebalancing::configure(const RebalanceConfig& config) {
  const std::set<unsigned>& cpus = manager_.placement().cpus();
  if (!policy_ || !(config == config_) || cpus != policy_cpus_) {
    policy_.emplace(config.policy, cpus);  // its rounds and cooldowns start over
    policy_cpus_ = cpus;
  }
  config_ = config;
  timer_.cancel();
  schedule();
}

void Rebalancing::schedule() {
  timer_.expires_after(std::chrono::milliseconds(config_.interval_ms));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    round(std::chrono::steady_clock::now());
    schedule();
  });
}

Rebalancing::Sample Rebalancing::measure(std::chrono::steady_clock::time_point now) {
  Sample sample{now, {}, {}};
  if (auto softirq = softirq_()) {
    sample.softirq = std::move(*softirq);
  } else if (!last_) {  // said once; the loads then count the workers only
    log_(LogLevel::warning, fmt::format("rebalance: {}; CPU loads count the workers only", softirq.error().message));
  }
  for (const Queue* q : manager_.queues())
    if (auto stats = telemetry_.queue_stats(q->id)) sample.received[q->id] = stats->received;
  workers_.update(telemetry_.worker_samples(), now);
  return sample;
}

std::vector<QueueLoad> Rebalancing::queue_loads(const Sample& now) const {
  const double seconds = std::chrono::duration<double>(now.at - last_->at).count();
  std::vector<QueueLoad> out;
  for (const Queue* q : manager_.queues()) {
    if (q->state != QueueState::running) continue;
    double rate = 0;
    auto before = last_->received.find(q->id);
    auto after = now.received.find(q->id);
    if (before != last_->received.end() && after != now.received.end() && after->second >= before->second)
      rate = static_cast<double>(after->second - before->second) / seconds;
    out.push_back({q->id, q->cpu, !q->cpu_pinned, rate});
  }
  return out;
}

void Rebalancing::round(std::chrono::steady_clock::time_point now) {
  Sample sample = measure(now);
  if (!last_ || sample.at <= last_->at) {
    last_ = std::move(sample);
    return;
  }
  const double interval_ns = std::chrono::duration<double, std::nano>(sample.at - last_->at).count();
  std::map<unsigned, double> worker_share;
  for (const WorkerLoad& w : workers_.loads())
    if (w.busy_share) worker_share[w.totals.cpu] = *w.busy_share;
  loads_.clear();
  std::vector<CpuLoad> cpus;
  for (unsigned cpu : manager_.placement().cpus()) {
    CpuMeasure m{cpu, worker_share[cpu], 0, 0};
    auto after = sample.softirq.find(cpu);
    auto before = last_->softirq.find(cpu);
    if (after != sample.softirq.end() && before != last_->softirq.end())
      m.softirq_share = std::clamp(static_cast<double>((after->second - before->second).count()) / interval_ns, 0.0, 1.0);
    m.busy_share = std::min(1.0, m.worker_share + m.softirq_share);
    loads_.push_back(m);
    cpus.push_back({cpu, m.busy_share});
  }
  const std::vector<QueueLoad> queues = queue_loads(sample);
  last_ = std::move(sample);
  // One set of moves at a time: the next round measures where they went.
  if (!policy_ || moves_in_flight_ > 0) return;
  for (QueueMove& m : policy_->decide(cpus, queues)) {
    ++moves_in_flight_;
    asio::co_spawn(io_, make_move(std::move(m)), asio::detached);
  }
}

asio::awaitable<void> Rebalancing::make_move(QueueMove m) {
  const Queue* q = manager_.queue(m.queue);
  const std::string name = q ? q->name : std::to_string(m.queue);
  Result<void> moved = fail(Errc::invalid_state, "the operator pinned it meanwhile");
  if (q && !q->cpu_pinned) moved = co_await operations_.set_cpu(m.queue, m.to, MoveOrigin::rebalancer, m.reason);
  --moves_in_flight_;
  if (!moved) {
    log_(LogLevel::warning,
         fmt::format("rebalance: queue {} not moved from CPU {} to CPU {}: {}", name, m.from, m.to, moved.error().message));
    co_return;
  }
  ++(m.kind == QueueMove::Kind::pack ? moves_pack_ : moves_spread_);
  log_(LogLevel::notice, fmt::format("rebalance: queue {} CPU {} -> {}: {}", name, m.from, m.to, m.reason));
  if (auto saved = save_state_(); !saved)
    log_(LogLevel::error, fmt::format("rebalance: queue {} moved but its new CPU could not be saved: {}", name,
                                      saved.error().message));
}

}  // namespace vmq::service
