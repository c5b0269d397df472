// A worker that does not answer: commands it has not taken are withdrawn, so
// the caller may free what it passed (the use-after-free this guards against).
#include "os/worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "os/serviced_queue.h"
#include "unit/service_gate.h"

namespace vmq::os {
namespace {

using namespace std::chrono_literals;

// Which fake queues exist; a worker that services a freed one is caught here
// (and by AddressSanitizer in the sanitizer build).
struct Registry {
  std::mutex lock;
  std::set<const void*> alive;
  std::atomic<int> services_of_freed{0};
};

class FakeQueue final : public ServicedQueue {
 public:
  explicit FakeQueue(Registry& registry) : registry_(registry) {
    std::lock_guard lock(registry_.lock);
    registry_.alive.insert(this);
  }
  ~FakeQueue() override {
    std::lock_guard lock(registry_.lock);
    registry_.alive.erase(this);
  }
  ServiceRound service() override {
    {
      std::lock_guard lock(registry_.lock);
      if (!registry_.alive.contains(this)) {
        ++registry_.services_of_freed;
        return {};
      }
    }
    ++services;
    gate_.pass();
    return std::exchange(next_round, {});
  }
  std::vector<int> poll_fds() const override { return {}; }
  bool awaiting_port() const override { return false; }
  void set_worker_tid(int) override {}

  // The next service() call blocks until release(): the worker then takes no command.
  bool hold_and_wait() { return gate_.hold_and_wait(); }
  void release() { gate_.release(); }

  std::atomic<unsigned> services{0};
  ServiceRound next_round;  // what the next service() call reports (set before the worker serves it)

 private:
  Registry& registry_;
  test::ServiceGate gate_;
};

using test::wait_for;

// Polls a posted command until it is settled (the control loop does it on a timer).
Result<void> settle(Worker& worker, Result<Worker::Ticket> posted) {
  if (!posted) return std::unexpected(posted.error());
  while (true) {
    auto settled = worker.settled(*posted);
    if (!settled) return std::unexpected(settled.error());
    if (*settled) return {};
    std::this_thread::sleep_for(1ms);
  }
}
Result<void> add(Worker& worker, ServicedQueue* queue) { return settle(worker, worker.post_add(queue)); }
Result<void> remove(Worker& worker, ServicedQueue* queue) { return settle(worker, worker.post_remove(queue)); }

TEST(Worker, CountsTheFramesItsQueuesReceivedNotTheirCompletions) {
  Registry registry;
  FakeQueue queue(registry);
  queue.next_round = {.frames = 3, .completions = 3};
  auto worker = Worker::start(0);
  ASSERT_TRUE(worker) << worker.error().message;
  ASSERT_TRUE(add(**worker, &queue));
  ASSERT_TRUE(wait_for([&] { return queue.services > 2; }));
  EXPECT_EQ((*worker)->frames(), 3u);
  EXPECT_TRUE(remove(**worker, &queue));
}

class WorkerThatDoesNotAnswer : public testing::Test {
 protected:
  void SetUp() override {
    // Long enough for a worker that answers on a loaded machine (the first
    // add below must succeed); the tests wait it out once or twice.
    auto started = Worker::start(0, 250ms);
    ASSERT_TRUE(started) << started.error().message;
    worker = std::move(*started);
    ASSERT_TRUE(add(*worker, &busy));
    // The worker now sits in busy.service() and takes no command.
    ASSERT_TRUE(busy.hold_and_wait());
  }
  void TearDown() override {
    busy.release();
    if (worker) {
      EXPECT_TRUE(remove(*worker, &busy));
    }
    worker.reset();
    EXPECT_EQ(registry.services_of_freed, 0) << "the worker serviced a queue after it was freed";
  }

  Registry registry;
  FakeQueue busy{registry};
  std::unique_ptr<Worker> worker;
};

TEST_F(WorkerThatDoesNotAnswer, AnAddItDoesNotTakeIsWithdrawnSoTheQueueCanBeFreed) {
  auto queue = std::make_unique<FakeQueue>(registry);
  auto added = add(*worker, queue.get());
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().code, Errc::timeout);
  EXPECT_NE(added.error().message.find("nothing changed"), std::string::npos) << added.error().message;
  queue.reset();  // what start_queue's undo does
  busy.release();
  // The worker runs again: it serves `busy`, and never the freed queue.
  const unsigned before = busy.services;
  ASSERT_TRUE(wait_for([&] { return busy.services > before + 3; })) << "the worker did not run again";
  EXPECT_EQ(worker->queue_count(), 1u);
}

TEST_F(WorkerThatDoesNotAnswer, PollingAPostedCommandNeverWaitsAndWithdrawsItAtTheDeadline) {
  auto queue = std::make_unique<FakeQueue>(registry);
  auto ticket = worker->post_add(queue.get());
  ASSERT_TRUE(ticket) << ticket.error().message;
  Result<bool> settled = false;
  int polls = 0;
  const auto started = std::chrono::steady_clock::now();
  while ((settled = worker->settled(*ticket)) && !*settled) {
    ++polls;
    // Each poll returns at once: the caller's thread (the control loop) is never held up.
    ASSERT_LT(std::chrono::steady_clock::now() - started, 5s);
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_GT(polls, 5) << "settled() answered before the deadline without the worker taking the command";
  ASSERT_FALSE(settled);
  EXPECT_EQ(settled.error().code, Errc::timeout);
  EXPECT_EQ(settled.error().message, "the worker of CPU 0 did not answer within 250 ms; nothing changed");
  queue.reset();  // nothing queued points to it any more
  busy.release();
  const unsigned before = busy.services;
  ASSERT_TRUE(wait_for([&] { return busy.services > before + 3; })) << "the worker did not run again";
  EXPECT_EQ(worker->queue_count(), 1u);
}

TEST_F(WorkerThatDoesNotAnswer, ARemoveItDoesNotTakeLeavesTheQueueServedUntilItIsTaken) {
  FakeQueue other(registry);
  busy.release();
  ASSERT_TRUE(add(*worker, &other));
  ASSERT_TRUE(busy.hold_and_wait());
  auto removed = remove(*worker, &other);
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().code, Errc::timeout);
  busy.release();
  const unsigned before = other.services;
  ASSERT_TRUE(wait_for([&] { return other.services > before; })) << "a failed remove must leave the queue served";
  EXPECT_TRUE(remove(*worker, &other));  // now it answers
  EXPECT_EQ(worker->queue_count(), 1u);
}

}  // namespace
}  // namespace vmq::os
