// vmqd's rebalancing loop over the fake dataplane: it measures each CPU's
// load (worker CPU time plus softirq time) and each queue's frame rate from
// the dataplane's counters, and moves auto queues through the lossless move
// path; pinned queues stay. Rounds are driven by hand with made-up clocks.
#include <gtest/gtest.h>

#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "service/queue_operations.h"
#include "service/rebalancing.h"
#include "unit/fake_dataplane.h"

namespace vmq::service {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class RebalancingTest : public ::testing::Test {
 protected:
  RebalancingTest()
      : manager(QueueLimits{}, Placement({}, {0, 1}), dp),
        rebalancing(
            io, manager, dp, [this] { return softirq_clock(); },
            [this] {
              ++saves;
              return Result<void>{};
            },
            [this](LogLevel, std::string_view line) { log.emplace_back(line); }) {}

  // Four queues on CPU 0; `pinned` ones keep the CPU the operator gave.
  void add_queues(bool pinned) {
    for (int n = 1; n <= 4; ++n) {
      const std::string name = "vm" + std::to_string(n);
      const QueueParams params{name, "", "uplink0", "port" + std::to_string(n), 0u, std::nullopt, VlanMode::trunk};
      const std::vector<FilterMatch> filters{
          *FilterMatch::make(*MacAddress::parse(fmt::format("52:54:00:00:00:0{}", n)), std::nullopt)};
      auto id = run(QueueOperations(manager).create(params, filters));
      ASSERT_TRUE(id) << id.error().message;
      if (!pinned) {
        ASSERT_TRUE(manager.set_cpu_pinned(*id, false));
      }
      ids.push_back(*id);
    }
  }

  template <typename T>
  T run(boost::asio::awaitable<T> operation) {
    auto result = boost::asio::co_spawn(io, std::move(operation), boost::asio::use_future);
    io.run_for(200ms);
    io.restart();
    return result.get();
  }

  // A round `seconds` after the first: CPU 0's worker used `busy` of it and
  // vm1 and vm2 took `rate` frames per second each.
  void round_at(int seconds, double busy, std::uint64_t rate) {
    dp.workers = {{0, 100, 4, std::chrono::nanoseconds(static_cast<std::int64_t>(busy * 1e9 * seconds)), 0}};
    dp.received[ids[0]] = rate * static_cast<std::uint64_t>(seconds);
    dp.received[ids[1]] = rate * static_cast<std::uint64_t>(seconds);
    softirq[0] = std::chrono::milliseconds(50 * seconds);  // 5% of CPU 0
    rebalancing.round(start + std::chrono::seconds(seconds));
    io.run_for(100ms);  // the moves it started
    io.restart();
  }

  Result<std::map<unsigned, std::chrono::nanoseconds>> softirq_clock() {
    if (softirq_fails) return fail(Errc::system, "reading /proc/stat failed (injected)");
    return softirq;
  }

  static RebalanceConfig enabled() {
    RebalanceConfig c;
    c.policy.enabled = true;
    c.policy.high = 0.5;
    c.policy.low = 0.1;
    c.policy.sustain = 2;
    return c;
  }

  boost::asio::io_context io;
  test::FakeDataplane dp;
  QueueManager manager;
  std::vector<std::string> log;
  std::map<unsigned, std::chrono::nanoseconds> softirq{{0, 0ns}, {1, 0ns}};
  bool softirq_fails = false;
  int saves = 0;
  Rebalancing rebalancing;
  std::vector<QueueId> ids;
  const Clock::time_point start = Clock::now();
};

TEST_F(RebalancingTest, MeasuresEachAllowedCpuFromTheWorkerAndSoftirqTimes) {
  add_queues(false);
  round_at(0, 0, 0);
  EXPECT_TRUE(rebalancing.loads().empty()) << "one measurement is no load yet";
  round_at(1, 0.6, 1000);
  ASSERT_EQ(rebalancing.loads().size(), 2u) << "every allowed CPU, with or without a worker";
  const auto& cpu0 = rebalancing.loads()[0];
  EXPECT_EQ(cpu0.cpu, 0u);
  EXPECT_NEAR(cpu0.worker_share, 0.6, 0.01);
  EXPECT_NEAR(cpu0.softirq_share, 0.05, 0.01);
  EXPECT_NEAR(cpu0.busy_share, 0.65, 0.01);
  EXPECT_EQ(rebalancing.loads()[1].busy_share, 0.0);
}

TEST_F(RebalancingTest, SpreadsAnAutoQueueOffAnOverloadedCpuAfterTheSustainRounds) {
  add_queues(false);
  rebalancing.configure(enabled());
  round_at(0, 0, 0);
  round_at(1, 0.9, 500000);
  EXPECT_EQ(rebalancing.moves(), 0u) << "one round above high is not sustained";
  round_at(2, 0.9, 500000);
  ASSERT_EQ(rebalancing.moves(), 1u);
  EXPECT_EQ(rebalancing.spread_moves(), 1u);
  std::vector<const Queue*> moved;
  for (QueueId id : ids)
    if (manager.queue(id)->cpu == 1) moved.push_back(manager.queue(id));
  ASSERT_EQ(moved.size(), 1u);
  const Queue& q = *moved.front();
  EXPECT_TRUE(q.id == ids[0] || q.id == ids[1]) << "a busy queue moves, not an idle one";
  ASSERT_TRUE(q.last_move);
  EXPECT_EQ(q.last_move->by, MoveOrigin::rebalancer);
  EXPECT_EQ(q.last_move->from, 0u);
  EXPECT_EQ(q.last_move->to, 1u);
  EXPECT_TRUE(q.last_move->reason.starts_with("spread: CPU 0 was 95% busy")) << q.last_move->reason;
  EXPECT_FALSE(q.cpu_pinned) << "a rebalanced queue stays auto";
  ASSERT_FALSE(log.empty());
  EXPECT_TRUE(log.back().starts_with("rebalance: queue " + q.name + " CPU 0 -> 1: spread")) << log.back();
  EXPECT_NE(std::ranges::find(dp.calls, "move_queue"), dp.calls.end()) << "through the dataplane's move";
  EXPECT_EQ(saves, 1) << "the new CPU is saved";
}

TEST_F(RebalancingTest, PinnedQueuesNeverMove) {
  add_queues(true);
  rebalancing.configure(enabled());
  for (int s = 0; s <= 6; ++s) round_at(s, 0.95, 500000);
  EXPECT_EQ(rebalancing.moves(), 0u);
  for (QueueId id : ids) EXPECT_EQ(manager.queue(id)->cpu, 0u);
  EXPECT_NEAR(rebalancing.loads()[0].busy_share, 1.0, 1e-9) << "capped at the whole CPU";
}

TEST_F(RebalancingTest, DisabledItMeasuresButNeverMoves) {
  add_queues(false);
  for (int s = 0; s <= 6; ++s) round_at(s, 0.95, 500000);
  EXPECT_EQ(rebalancing.moves(), 0u);
  EXPECT_EQ(rebalancing.loads().size(), 2u);
}

TEST_F(RebalancingTest, WithoutSoftirqTimesItCountsTheWorkersAndSaysSoOnce) {
  add_queues(false);
  softirq_fails = true;
  for (int s = 0; s <= 3; ++s) round_at(s, 0.4, 1000);
  EXPECT_NEAR(rebalancing.loads()[0].busy_share, 0.4, 0.01);
  EXPECT_EQ(std::ranges::count_if(log, [](const std::string& l) { return l.find("injected") != std::string::npos; }),
            1);
}

}  // namespace
}  // namespace vmq::service
