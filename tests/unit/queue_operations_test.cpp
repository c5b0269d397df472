// QueueOperations over the fake dataplane, run to the end on an io_context:
// what the control API and the daemon await (restoring, starting, freeing).
#include <gtest/gtest.h>

#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <vector>

#include "service/queue_operations.h"
#include "unit/fake_dataplane.h"

namespace vmq::service {
namespace {

using namespace std::chrono_literals;

FilterMatch match(const char* mac) { return *FilterMatch::make(*MacAddress::parse(mac), std::nullopt); }

class QueueOperationsTest : public ::testing::Test {
 protected:
  QueueOperationsTest()
      : manager(QueueLimits{}, Placement({}, {0, 1}), dp), operations(manager, OperationTiming{.port_retry_limit = 50ms}) {}

  template <typename T>
  T run(boost::asio::awaitable<T> operation) {
    boost::asio::io_context io;
    auto result = boost::asio::co_spawn(io, std::move(operation), boost::asio::use_future);
    io.run();
    return result.get();
  }

  test::FakeDataplane dp;
  QueueManager manager;
  QueueOperations operations;
};

TEST_F(QueueOperationsTest, RestoreStartsTheQueueWithItsIdsAndKeepsTheOperatorsPause) {
  const Queue saved{2, "web1", "vm1", "uplink0", "port1", 1, true, 256, VlanMode::access, QueueState::running, true, {}, {}, std::nullopt};
  const std::vector<Filter> filters{{4, 2, match("52:54:00:00:00:01")}};
  auto restored = run(operations.restore(saved, filters));
  ASSERT_TRUE(restored) << restored.error().message;
  const Queue* q = manager.queue(2);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->filters, std::vector<FilterId>{4});
  EXPECT_EQ(q->state, QueueState::running);
  EXPECT_TRUE(q->paused_by_operator);
  EXPECT_EQ(dp.published.at(2), QueueState::paused);
  EXPECT_TRUE(dp.started.contains(2));
}

TEST_F(QueueOperationsTest, ARestoredQueueThatCannotStartStaysWithItsErrorAndResumeStartsIt) {
  dp.fail_next.insert("start_queue");
  const Queue saved{3, "web2", "vm2", "uplink0", "port2", 0, true, 256, VlanMode::trunk, QueueState::running, false, {}, {}, std::nullopt};
  const std::vector<Filter> filters{{5, 3, match("52:54:00:00:00:02")}};
  ASSERT_TRUE(run(operations.restore(saved, filters))) << "kept, for the operator to see";
  EXPECT_EQ(manager.queue(3)->state, QueueState::set);
  EXPECT_EQ(manager.queue(3)->last_error, "start_queue failed (injected)");
  auto resumed = run(operations.resume(3));
  ASSERT_TRUE(resumed) << resumed.error().message;
  EXPECT_EQ(manager.queue(3)->state, QueueState::running);
  EXPECT_TRUE(manager.queue(3)->last_error.empty());
}

TEST_F(QueueOperationsTest, CreateTriesAgainWhileThePortIsStillHeld) {
  dp.port_busy_starts = 2;
  const QueueParams params{"web1", "", "uplink0", "port1", std::nullopt, std::nullopt, VlanMode::trunk};
  const std::vector<FilterMatch> filters{match("52:54:00:00:00:01")};
  auto id = run(operations.create(params, filters));
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(std::ranges::count(dp.calls, "start_queue"), 3);
  EXPECT_EQ(manager.queue(*id)->state, QueueState::running);
}

TEST_F(QueueOperationsTest, QuiesceDrainsEveryStartedQueueAndKeepsThem) {
  const QueueParams params{"web1", "", "uplink0", "port1", std::nullopt, std::nullopt, VlanMode::trunk};
  const std::vector<FilterMatch> filters{match("52:54:00:00:00:01")};
  auto id = run(operations.create(params, filters));
  ASSERT_TRUE(id);
  dp.frames_in_ring = 5;
  dp.probes_before_empty = 3;
  const auto errors = run(operations.quiesce());
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(dp.delivered.at(*id), 5u) << "what the queue held was delivered";
  EXPECT_EQ(dp.published.at(*id), QueueState::paused);
  EXPECT_EQ(manager.queue(*id)->state, QueueState::running);
}

}  // namespace
}  // namespace vmq::service
