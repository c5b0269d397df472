// The worker pool with fake queues: a CPU's worker comes with its first
// queue and goes with its last, a queue moves between workers, changes are
// posted without waiting and polled, and a queue stopped while its worker
// does not answer is freed only once it lets go.
#include "os/worker_pool.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "unit/service_gate.h"

namespace vmq::os {
namespace {

using namespace std::chrono_literals;

// How long a command may wait for a worker in the tests where one does not
// answer; long enough for one that does, on a loaded machine.
constexpr auto kShortTimeout = 250ms;

using test::wait_for;

// A queue that counts its services, can hold its worker inside service()
// (the worker then takes no command) and says when it is freed.
class FakeQueue final : public ServicedQueue {
 public:
  explicit FakeQueue(std::atomic<int>* freed = nullptr) : freed_(freed) {}
  ~FakeQueue() override {
    if (freed_) ++*freed_;
  }
  ServiceRound service() override {
    ++services;
    gate_.pass();
    return {};
  }
  std::vector<int> poll_fds() const override { return {}; }
  bool awaiting_port() const override { return false; }
  void set_worker_tid(int tid) override { worker_tid = tid; }

  // The next service() call blocks until release().
  bool hold_and_wait() { return gate_.hold_and_wait(); }
  void release() { gate_.release(); }

  std::atomic<unsigned> services{0};
  std::atomic<int> worker_tid{0};

 private:
  std::atomic<int>* freed_;
  test::ServiceGate gate_;
};

std::size_t queues_on(const WorkerPool& pool, unsigned cpu) {
  for (const WorkerSample& s : pool.samples())
    if (s.cpu == cpu) return s.queues;
  return 0;
}

bool has_worker(const WorkerPool& pool, unsigned cpu) {
  for (const WorkerSample& s : pool.samples())
    if (s.cpu == cpu) return true;
  return false;
}

bool two_cpus_allowed() {
  cpu_set_t set;
  CPU_ZERO(&set);
  return sched_getaffinity(0, sizeof set, &set) == 0 && CPU_ISSET(0, &set) && CPU_ISSET(1, &set);
}

// Polls the queue's change the way the control path does, until it is done
// or failed (bounded: the pool's own deadlines are far shorter).
Result<void> settle(WorkerPool& pool, QueueId id) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto settled = pool.settled(id);
    if (!settled) return std::unexpected(settled.error());
    if (*settled) return {};
    std::this_thread::sleep_for(1ms);
  }
  return fail(Errc::timeout, "the test gave up polling");
}

TEST(WorkerPool, ACpusWorkerStartsWithItsFirstQueueAndStopsWithItsLast) {
  WorkerPool pool;
  std::atomic<int> freed{0};
  auto first = std::make_unique<FakeQueue>(&freed);
  auto second = std::make_unique<FakeQueue>(&freed);
  EXPECT_TRUE(pool.samples().empty());
  ASSERT_TRUE(pool.add(1, *first, 0));
  ASSERT_TRUE(pool.add(2, *second, 0));
  ASSERT_TRUE(settle(pool, 1));
  ASSERT_TRUE(settle(pool, 2));
  ASSERT_EQ(pool.samples().size(), 1u) << "one worker per CPU";
  EXPECT_EQ(queues_on(pool, 0), 2u);
  ASSERT_TRUE(wait_for([&] { return first->services > 0 && second->services > 0; }));
  EXPECT_EQ(first->worker_tid.load(), pool.samples().front().tid);

  pool.retire(1, std::move(first), 0);
  ASSERT_TRUE(settle(pool, 1));
  EXPECT_EQ(freed, 1);
  EXPECT_EQ(queues_on(pool, 0), 1u) << "the worker keeps serving the other queue";
  pool.retire(2, std::move(second), 0);
  ASSERT_TRUE(settle(pool, 2));
  EXPECT_EQ(freed, 2);
  EXPECT_TRUE(pool.samples().empty()) << "an idle worker is stopped";
  EXPECT_EQ(pool.stranded_count(), 0u);
}

TEST(WorkerPool, MovesAQueueToAnotherCpusWorker) {
  if (!two_cpus_allowed()) GTEST_SKIP() << "needs CPUs 0 and 1";
  WorkerPool pool;
  FakeQueue moving, staying;
  ASSERT_TRUE(pool.add(1, moving, 0));
  ASSERT_TRUE(pool.add(2, staying, 1));
  ASSERT_TRUE(settle(pool, 1));
  ASSERT_TRUE(settle(pool, 2));
  ASSERT_TRUE(pool.move(1, moving, 0, 1));
  ASSERT_TRUE(settle(pool, 1));
  EXPECT_FALSE(has_worker(pool, 0)) << "CPU 0 lost its last queue";
  EXPECT_EQ(queues_on(pool, 1), 2u);
  const unsigned before = moving.services;
  EXPECT_TRUE(wait_for([&] { return moving.services > before; })) << "the new worker serves the queue";
  EXPECT_EQ(moving.worker_tid.load(), pool.samples().front().tid);
  pool.stop();
}

TEST(WorkerPool, ASecondChangeWhileOneIsUnderWayIsRefused) {
  WorkerPool pool(kShortTimeout);
  FakeQueue busy, queue;
  ASSERT_TRUE(pool.add(1, busy, 0));
  ASSERT_TRUE(settle(pool, 1));
  ASSERT_TRUE(busy.hold_and_wait());
  ASSERT_TRUE(pool.add(2, queue, 0)) << "posting never waits for the worker";
  auto taken = pool.settled(2);
  ASSERT_TRUE(taken);
  EXPECT_FALSE(*taken) << "the held worker has not taken it";
  auto again = pool.move(2, queue, 0, 0);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::conflict);
  busy.release();
  EXPECT_TRUE(settle(pool, 2));
  EXPECT_EQ(queues_on(pool, 0), 2u);
  pool.stop();
}

TEST(WorkerPool, AMoveTheSourceWorkerDoesNotAnswerLeavesTheQueueWhereItWas) {
  if (!two_cpus_allowed()) GTEST_SKIP() << "needs CPUs 0 and 1";
  WorkerPool pool(kShortTimeout);
  FakeQueue busy, moving;
  ASSERT_TRUE(pool.add(1, busy, 0));
  ASSERT_TRUE(pool.add(2, moving, 0));
  ASSERT_TRUE(settle(pool, 1));
  ASSERT_TRUE(settle(pool, 2));
  ASSERT_TRUE(busy.hold_and_wait());
  ASSERT_TRUE(pool.move(2, moving, 0, 1));
  auto moved = settle(pool, 2);
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().code, Errc::timeout);
  EXPECT_FALSE(has_worker(pool, 1)) << "the worker started for the move is stopped again";
  busy.release();
  EXPECT_EQ(queues_on(pool, 0), 2u);
  const unsigned before = moving.services;
  EXPECT_TRUE(wait_for([&] { return moving.services > before; })) << "its worker still serves it";
  pool.stop();
}

TEST(WorkerPool, AnAddItsWorkerDoesNotTakeFailsAndLeavesNothingBehind) {
  WorkerPool pool(kShortTimeout);
  FakeQueue busy, late;
  ASSERT_TRUE(pool.add(1, busy, 0));
  ASSERT_TRUE(settle(pool, 1));
  ASSERT_TRUE(busy.hold_and_wait());
  ASSERT_TRUE(pool.add(2, late, 0));
  auto added = settle(pool, 2);
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().code, Errc::timeout);
  busy.release();
  EXPECT_EQ(queues_on(pool, 0), 1u);
  const unsigned before = busy.services;
  ASSERT_TRUE(wait_for([&] { return busy.services > before + 3; }));
  EXPECT_EQ(late.services, 0u) << "the worker never saw the queue";
  pool.stop();
}

TEST(WorkerPool, AQueueStoppedDuringItsMoveIsTakenFromWhereverItIs) {
  if (!two_cpus_allowed()) GTEST_SKIP() << "needs CPUs 0 and 1";
  WorkerPool pool;
  std::atomic<int> freed{0};
  auto queue = std::make_unique<FakeQueue>(&freed);
  ASSERT_TRUE(pool.add(1, *queue, 0));
  ASSERT_TRUE(settle(pool, 1));
  ASSERT_TRUE(pool.move(1, *queue, 0, 1));
  ASSERT_TRUE(pool.settled(1)) << "one step of the move, whatever it found";
  pool.retire(1, std::move(queue), 0);
  ASSERT_TRUE(settle(pool, 1));
  EXPECT_EQ(freed, 1);
  EXPECT_TRUE(pool.samples().empty()) << "neither CPU keeps a worker";
}

TEST(WorkerPool, AQueueItsWorkerDoesNotLetGoIsFreedOnlyOnceItDoes) {
  WorkerPool pool(kShortTimeout);
  std::atomic<int> freed{0};
  FakeQueue busy;
  auto stopped = std::make_unique<FakeQueue>(&freed);
  FakeQueue* stopped_queue = stopped.get();
  ASSERT_TRUE(pool.add(1, busy, 0));
  ASSERT_TRUE(pool.add(7, *stopped, 0));
  ASSERT_TRUE(settle(pool, 1));
  ASSERT_TRUE(settle(pool, 7));
  ASSERT_TRUE(busy.hold_and_wait());

  pool.retire(7, std::move(stopped), 0);
  auto retired = settle(pool, 7);
  ASSERT_FALSE(retired);
  EXPECT_EQ(retired.error().code, Errc::timeout);
  auto again = pool.settled(7);
  ASSERT_TRUE(again);
  EXPECT_TRUE(*again) << "the failure is said once; the stop itself is over";
  EXPECT_EQ(freed, 0) << "the worker may still touch it";
  EXPECT_EQ(pool.stranded_count(), 1u);
  EXPECT_TRUE(pool.retry_stranded().empty()) << "the worker still does not answer";
  EXPECT_EQ(freed, 0);

  busy.release();
  const unsigned before = stopped_queue->services;
  ASSERT_TRUE(wait_for([&] { return stopped_queue->services > before; })) << "a stranded queue is still served";
  std::vector<QueueId> freed_ids;
  ASSERT_TRUE(wait_for([&] {
    freed_ids = pool.retry_stranded();
    return !freed_ids.empty();
  })) << "the worker answers again";
  EXPECT_EQ(freed_ids, std::vector<QueueId>{7});
  EXPECT_EQ(freed, 1);
  EXPECT_EQ(pool.stranded_count(), 0u);
  EXPECT_EQ(queues_on(pool, 0), 1u);
  pool.stop();
}

TEST(WorkerPool, StoppingFreesTheStrandedQueuesAfterTheWorkers) {
  std::atomic<int> freed{0};
  FakeQueue busy;
  {
    WorkerPool pool(kShortTimeout);
    auto stopped = std::make_unique<FakeQueue>(&freed);
    ASSERT_TRUE(pool.add(1, busy, 0));
    ASSERT_TRUE(pool.add(3, *stopped, 0));
    ASSERT_TRUE(settle(pool, 1));
    ASSERT_TRUE(settle(pool, 3));
    ASSERT_TRUE(busy.hold_and_wait());
    pool.retire(3, std::move(stopped), 0);
    ASSERT_FALSE(settle(pool, 3));
    busy.release();
    pool.stop();
    EXPECT_EQ(freed, 1);
    EXPECT_TRUE(pool.samples().empty());
  }
  EXPECT_EQ(freed, 1) << "freed once";
}

}  // namespace
}  // namespace vmq::os
