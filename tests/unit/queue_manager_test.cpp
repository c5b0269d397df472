// The agent's queue logic against a fake dataplane: NDIS transitions, filter
// rules, limits, placement, and that a refused request changes nothing.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/names.h"
#include "core/queue_manager.h"
#include "unit/fake_dataplane.h"

namespace vmq {
namespace {

using test::FakeDataplane;

MacAddress mac(const char* text) { return *MacAddress::parse(text); }
FilterMatch match(const char* m, std::optional<long> vlan = std::nullopt) { return *FilterMatch::make(mac(m), vlan); }
template <typename T>
Result<void> outcome(const Result<T>& result) {
  if (!result) return std::unexpected(result.error());
  return {};
}

struct RecordingEvents : QueueEvents {
  std::vector<std::string> log;
  void state_changed(const Queue& q, QueueState from, QueueState to) override {
    log.push_back(q.name + ":" + std::string(to_string(from)) + "->" + std::string(to_string(to)));
  }
  void dma_stopped(const Queue& q) override { log.push_back(q.name + ":dma-stopped"); }
  void publish_failed(const Queue& q, const Error& e) override { log.push_back(q.name + ":publish-failed:" + e.message); }
  long count(const std::string& entry) const { return std::ranges::count(log, entry); }
};

class QueueManagerTest : public ::testing::Test {
 protected:
  QueueManagerTest() : manager(limits(), Placement({}, {0, 1}), dp, &events) {}
  static QueueLimits limits() {
    QueueLimits l;
    l.max_queues = 3;
    l.max_filters = 5;
    return l;
  }
  QueueParams params(const std::string& name, const std::string& port, std::optional<unsigned> cpu = std::nullopt) {
    return QueueParams{name, "vm-" + name, "uplink0", port, cpu, std::nullopt, VlanMode::trunk};
  }
  QueueState state_of(QueueId id) const { return manager.queue(id)->state; }

  // The service's steps, without its timers (the fake's workers answer at once).
  Result<void> settle(QueueId id) {
    auto settled = manager.change_settled(id);
    if (!settled) return std::unexpected(settled.error());
    EXPECT_TRUE(*settled);
    return {};
  }
  Result<void> complete(QueueId id) {
    if (auto begun = manager.begin_start(id); !begun) return begun;
    auto started = manager.try_start(id);
    if (started) started = settle(id);
    return manager.finish_start(id, started);
  }
  Result<void> set_cpu(QueueId id, unsigned cpu) {
    auto moving = manager.begin_move(id, cpu);
    if (!moving) return std::unexpected(moving.error());
    if (!*moving) return {};
    return manager.finish_move(id, cpu, settle(id));
  }
  Result<QueueId> create(const QueueParams& p, const std::vector<FilterMatch>& filters) {
    auto id = manager.prepare(p, filters);
    if (!id) return id;
    if (auto started = complete(*id); !started) {
      manager.discard(*id);
      return std::unexpected(started.error());
    }
    return id;
  }

  // The service's drain without its timers: probes until the fake's rings are empty.
  Result<DrainResult> finish(Result<QueueManager::Freeing> freeing) {
    if (!freeing) return std::unexpected(freeing.error());
    Result<DrainResult> drained = DrainResult{};
    if (freeing->must_drain) {
      std::optional<std::uint64_t> first;
      for (int probes = 0; probes < 100; ++probes) {
        auto probe = manager.drain_probe(freeing->queue);
        if (!probe) {
          drained = std::unexpected(probe.error());
          break;
        }
        if (!first) first = probe->delivered;
        if (probe->rings_empty) {
          drained = DrainResult{probe->delivered - *first, {}, probe->stats};
          break;
        }
      }
    }
    if (manager.release_resources(*freeing) && freeing->must_drain) (void)settle(freeing->queue);
    return manager.finish_free(*freeing, drained);
  }
  Result<DrainResult> free(QueueId id) { return finish(manager.begin_free(id)); }
  Result<DrainResult> remove(QueueId id) { return finish(manager.begin_remove(id)); }

  FakeDataplane dp;
  RecordingEvents events;
  QueueManager manager;
};

TEST_F(QueueManagerTest, AllocateCreatesAnAllocatedQueueTheClassifierDoesNotDeliverTo) {
  auto id = manager.allocate(params("web1", "port1"));
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, 1u);
  EXPECT_EQ(state_of(*id), QueueState::allocated);
  EXPECT_EQ(dp.published.at(*id), QueueState::allocated);
  EXPECT_TRUE(dp.started.empty()) << "buffers are allocated at completion, not before";
  EXPECT_EQ(manager.queue(*id)->frames, 512u);
}

TEST_F(QueueManagerTest, AllocateValidatesEveryParameter) {
  struct Case {
    QueueParams p;
    Errc code;
    const char* text;
  };
  auto with = [&](auto change) {
    auto p = params("web1", "port1");
    change(p);
    return p;
  };
  const Case cases[] = {
      {with([](auto& p) { p.name = "bad name"; }), Errc::invalid_argument, "invalid queue name"},
      {with([](auto& p) { p.name = "123"; }), Errc::invalid_argument, "all digits"},
      {with([](auto& p) { p.uplink = "eth9"; }), Errc::not_found, "uplink eth9 is not managed"},
      {with([](auto& p) { p.port = "nope0"; }), Errc::not_found, "port nope0 does not exist"},
      {with([](auto& p) { p.port = "a/b"; }), Errc::invalid_argument, "invalid port name"},
      {with([](auto& p) { p.port = "uplink0"; }), Errc::invalid_argument, "cannot be the uplink"},
      {with([](auto& p) { p.cpu = 7; }), Errc::invalid_argument, "CPU 7 is not online"},
      {with([](auto& p) { p.frames = 0; }), Errc::invalid_argument, "frames 0 out of range"},
      {with([](auto& p) { p.frames = 100000; }), Errc::invalid_argument, "frames 100000 out of range"},
      {with([](auto& p) { p.sub_queues = 3; }), Errc::invalid_argument, "3 sub-queues need 3 CPUs, but only 2"},
      {with([](auto& p) { p.sub_queues = 0; }), Errc::invalid_argument, "0 sub-queues: a queue has 1 to 16"},
      {with([](auto& p) { p.sub_queue_cpus = {0, 0}; }), Errc::invalid_argument, "CPU 0 is given twice"},
      {with([](auto& p) { p.sub_queue_cpus = {0, 5}; }), Errc::invalid_argument, "CPU 5 is not online"},
      {with([](auto& p) { p.sub_queues = 2, p.cpu = 1; }), Errc::invalid_argument, "exclude each other"},
  };
  for (const auto& c : cases) {
    auto id = manager.allocate(c.p);
    ASSERT_FALSE(id) << c.text;
    EXPECT_EQ(id.error().code, c.code) << c.text;
    EXPECT_NE(id.error().message.find(c.text), std::string::npos) << id.error().message;
  }
  EXPECT_TRUE(manager.queues().empty());
  EXPECT_TRUE(dp.published.empty());
}

// VMMQ: one queue, a sub-queue on each of several CPUs.
TEST_F(QueueManagerTest, SubQueuesTakeTheLeastLoadedCpusOneEachAndStayPinned) {
  auto busy = manager.allocate(params("busy", "port1", 0));
  ASSERT_TRUE(busy);
  auto p = params("wide", "port2");
  p.sub_queues = 2;
  auto id = manager.allocate(p);
  ASSERT_TRUE(id) << id.error().message;
  const Queue& q = *manager.queue(*id);
  EXPECT_EQ(q.sub_queues(), 2u);
  EXPECT_EQ(q.sub_queue_cpus, (std::vector<unsigned>{1, 0})) << "CPU 1 had no queue: it comes first";
  EXPECT_EQ(q.cpu, 1u);
  EXPECT_TRUE(q.cpu_pinned);
  EXPECT_EQ(manager.queues_per_cpu(), (std::map<unsigned, unsigned>{{0, 2}, {1, 1}}));
  ASSERT_TRUE(manager.set_filter(*id, match("52:54:00:00:00:09")));
  ASSERT_TRUE(complete(*id));
  EXPECT_EQ(dp.started.at(*id).sub_queue_cpus, (std::vector<unsigned>{1, 0}));

  auto moved = manager.begin_move(*id, 0);
  ASSERT_FALSE(moved);
  EXPECT_NE(moved.error().message.find("it has 2 sub-queues, each on its own CPU"), std::string::npos);
  auto unpinned = manager.set_cpu_pinned(*id, false);
  ASSERT_FALSE(unpinned);
  EXPECT_NE(unpinned.error().message.find("cannot be auto"), std::string::npos);
  EXPECT_EQ(dp.started.at(*id).cpu, 1u);
}

TEST_F(QueueManagerTest, SubQueueCpusGivenAreUsedInTheirOrder) {
  auto p = params("wide", "port2");
  p.sub_queue_cpus = {1, 0};
  auto id = manager.allocate(p);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(manager.queue(*id)->cpus(), (std::vector<unsigned>{1, 0}));
}

TEST_F(QueueManagerTest, FramesHintIsRoundedToARingSizeWithinDoubleTheHint) {
  auto p = params("a", "port1");
  p.frames = 100;
  EXPECT_EQ(manager.queue(*manager.allocate(p))->frames, 128u);
  p = params("b", "port2");
  p.frames = 10;  // below the minimum
  EXPECT_EQ(manager.queue(*manager.allocate(p))->frames, 64u);
  p = params("c", "port3");
  p.frames = 4096;
  EXPECT_EQ(manager.queue(*manager.allocate(p))->frames, 4096u);
}

TEST_F(QueueManagerTest, NamesAndPortsAreUnique) {
  ASSERT_TRUE(manager.allocate(params("web1", "port1")));
  auto dup_name = manager.allocate(params("web1", "port2"));
  ASSERT_FALSE(dup_name);
  EXPECT_EQ(dup_name.error().code, Errc::conflict);
  auto dup_port = manager.allocate(params("web2", "port1"));
  ASSERT_FALSE(dup_port);
  EXPECT_EQ(dup_port.error().code, Errc::conflict);
  EXPECT_NE(dup_port.error().message.find("port port1 already delivers for queue web1"), std::string::npos);
}

TEST_F(QueueManagerTest, QueueIdsAreReusedOnlyAfterTheQueueIsGone) {
  auto a = manager.allocate(params("a", "port1"));
  auto b = manager.allocate(params("b", "port2"));
  auto c = manager.allocate(params("c", "port3"));
  ASSERT_TRUE(a && b && c);
  auto full = manager.allocate(params("d", "port4"));
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, Errc::limit_reached);
  ASSERT_TRUE(free(*b));
  auto d = manager.allocate(params("d", "port4"));
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, *b);
}

TEST_F(QueueManagerTest, FilterBeforeCompletionGivesSetAndNoDelivery) {
  auto id = *manager.allocate(params("web1", "port1"));
  ASSERT_TRUE(manager.set_filter(id, match("52:54:00:00:00:01", 100)));
  EXPECT_EQ(state_of(id), QueueState::set);
  EXPECT_EQ(dp.published.at(id), QueueState::set);
  ASSERT_TRUE(complete(id));
  EXPECT_EQ(state_of(id), QueueState::running);
  EXPECT_EQ(dp.published.at(id), QueueState::running);
  ASSERT_TRUE(dp.started.contains(id));
  // The socket exists before the classifier is told the queue runs.
  auto start = std::ranges::find(dp.calls, "start_queue");
  auto running = std::find(start, dp.calls.end(), "publish_queue_state");
  EXPECT_NE(running, dp.calls.end());
}

TEST_F(QueueManagerTest, CompleteWithoutFiltersGivesPausedAndTheFirstFilterRuns) {
  auto id = *manager.allocate(params("web1", "port1"));
  ASSERT_TRUE(complete(id));
  EXPECT_EQ(state_of(id), QueueState::paused);
  EXPECT_EQ(dp.published.at(id), QueueState::paused);
  ASSERT_TRUE(manager.set_filter(id, match("52:54:00:00:00:01")));
  EXPECT_EQ(state_of(id), QueueState::running);
  EXPECT_EQ(dp.published.at(id), QueueState::running);
}

TEST_F(QueueManagerTest, BlankCellsAreRefusedWithNoChange) {
  auto set_q = *manager.allocate(params("s", "port1"));
  auto filter = *manager.set_filter(set_q, match("52:54:00:00:00:01"));
  auto run_q = *create(params("r", "port2"), {match("52:54:00:00:00:02")});
  const auto calls_before = dp.calls.size();
  const auto published_before = dp.published;

  auto free_set = free(set_q);  // FREE in Set
  ASSERT_FALSE(free_set);
  EXPECT_EQ(free_set.error().code, Errc::invalid_state);
  auto free_running = free(run_q);  // FREE in Running
  ASSERT_FALSE(free_running);
  auto second_complete = complete(run_q);  // a second COMPLETE
  ASSERT_FALSE(second_complete);
  EXPECT_EQ(second_complete.error().code, Errc::invalid_state);
  EXPECT_NE(second_complete.error().message.find("in state running"), std::string::npos);

  EXPECT_EQ(state_of(set_q), QueueState::set);
  EXPECT_EQ(state_of(run_q), QueueState::running);
  EXPECT_EQ(manager.filter(filter)->queue, set_q);
  EXPECT_EQ(dp.calls.size(), calls_before) << "a refused request must not touch the dataplane";
  EXPECT_EQ(dp.published, published_before);
}

TEST_F(QueueManagerTest, ClearingTheLastFilterPausesARunningQueueAndUnsetsASetOne) {
  auto run_q = *create(params("r", "port1"), {match("52:54:00:00:00:01"), match("52:54:00:00:00:01", 5)});
  auto filters = manager.queue(run_q)->filters;
  ASSERT_TRUE(manager.clear_filter(filters[0]));
  EXPECT_EQ(state_of(run_q), QueueState::running);
  ASSERT_TRUE(manager.clear_filter(filters[1]));
  EXPECT_EQ(state_of(run_q), QueueState::paused);
  EXPECT_EQ(dp.published.at(run_q), QueueState::paused);
  EXPECT_TRUE(dp.filters.empty());
  EXPECT_EQ(events.count("r:dma-stopped"), 0) << "clearing the last filter does not indicate DMA stopped";

  auto set_q = *manager.allocate(params("s", "port2"));
  auto f = *manager.set_filter(set_q, match("52:54:00:00:00:02"));
  ASSERT_TRUE(manager.clear_filter(f));
  EXPECT_EQ(state_of(set_q), QueueState::allocated);
}

TEST_F(QueueManagerTest, UnknownFilterIsNotFound) {
  auto r = manager.clear_filter(99);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::not_found);
  auto zero = manager.clear_filter(0);
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().code, Errc::not_found);
}

TEST_F(QueueManagerTest, FreeIndicatesDmaStoppedOnceThenForgetsTheQueue) {
  auto id = *create(params("web1", "port1"), {match("52:54:00:00:00:01")});
  dp.frames_in_ring = 17;
  auto drained = remove(id);
  ASSERT_TRUE(drained) << drained.error().message;
  EXPECT_EQ(drained->frames, 17u);
  EXPECT_EQ(events.count("web1:dma-stopped"), 1);
  EXPECT_EQ(manager.queue(id), nullptr);
  EXPECT_TRUE(dp.started.empty());
  EXPECT_EQ(dp.published.at(id), QueueState::undefined);
  // Order: filters cleared (paused), DMA stopped, drained, freeing, gone.
  const std::vector<std::string> expected{"web1:running->paused", "web1:paused->dma-stopped", "web1:dma-stopped",
                                          "web1:dma-stopped->freeing", "web1:freeing->undefined"};
  ASSERT_GE(events.log.size(), expected.size());
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), events.log.end() - 5));
  auto drain_call = std::ranges::find(dp.calls, "drained " + std::to_string(id));
  EXPECT_LT(drain_call, std::ranges::find(dp.calls, "stop_queue")) << "sockets close only after the drain";
}

TEST_F(QueueManagerTest, WhileAQueueDrainsEveryOtherChangeToItIsRefusedSayingWhatItIsDoing) {
  auto id = *create(params("web1", "port1"), {match("52:54:00:00:00:01")});
  auto other = *create(params("web2", "port2"), {match("52:54:00:00:00:02")});
  auto freeing = manager.begin_remove(id);
  ASSERT_TRUE(freeing) << freeing.error().message;
  EXPECT_TRUE(freeing->must_drain);
  EXPECT_EQ(state_of(id), QueueState::dma_stopped);
  EXPECT_EQ(dp.published.at(id), QueueState::dma_stopped);
  const std::string busy =
      "queue web1: busy: another request is freeing it (its frames are being delivered to its port); try again "
      "once it has been answered";
  const auto calls_before = dp.calls.size();
  const Result<void> refusals[] = {
      outcome(manager.set_filter(id, match("52:54:00:00:00:03"))),
      complete(id),
      manager.pause(id),
      manager.resume(id),
      outcome(manager.begin_move(id, 1)),
      manager.rename(id, "web9"),
      manager.set_vm(id, "vm9"),
      outcome(manager.begin_free(id)),
      outcome(manager.begin_remove(id)),
  };
  for (const auto& refused : refusals) {
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Errc::invalid_state);
    EXPECT_EQ(refused.error().message, busy);
  }
  EXPECT_EQ(dp.calls.size(), calls_before) << "a refused request must not touch the dataplane";
  // Other queues and reads are not held up.
  EXPECT_TRUE(manager.rename(other, "web3"));
  EXPECT_EQ((*manager.find("web1"))->state, QueueState::dma_stopped);

  auto drained = finish(freeing);
  ASSERT_TRUE(drained) << drained.error().message;
  EXPECT_EQ(manager.queue(id), nullptr);
  EXPECT_EQ(events.count("web1:dma-stopped"), 1);
}

TEST_F(QueueManagerTest, AFailedDrainStillFreesTheQueueAndReportsTheFailure) {
  auto id = *create(params("web1", "port1"), {});
  auto freeing = manager.begin_free(id);
  ASSERT_TRUE(freeing);
  ASSERT_TRUE(manager.release_resources(*freeing));
  auto freed = manager.finish_free(*freeing, fail(Errc::timeout, "too slow"));
  ASSERT_FALSE(freed);
  EXPECT_EQ(freed.error().message, "too slow");
  EXPECT_EQ(manager.queue(id), nullptr);
  EXPECT_TRUE(dp.started.empty());
  EXPECT_EQ(events.count("web1:dma-stopped"), 1);
}

TEST_F(QueueManagerTest, QuiescePausesEveryStartedQueueInTheClassifierAndKeepsTheRecords) {
  auto running = *create(params("r", "port1"), {match("52:54:00:00:00:01")});
  auto allocated = *manager.allocate(params("a", "port2"));
  std::vector<Error> errors;
  const auto to_drain = manager.begin_quiesce(errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(to_drain, std::vector<QueueId>{running});
  EXPECT_EQ(dp.published.at(running), QueueState::paused);
  EXPECT_EQ(state_of(running), QueueState::running) << "the record (and so the saved state) is unchanged";
  EXPECT_EQ(state_of(allocated), QueueState::allocated);
}

TEST_F(QueueManagerTest, AFailedStateWriteWhileFreeingIsReportedAndTheQueueIsStillFreed) {
  auto id = *create(params("web1", "port1"), {});
  dp.fail_next.insert("publish_queue_state");
  auto freed = free(id);
  ASSERT_TRUE(freed) << freed.error().message;
  EXPECT_EQ(events.count("web1:publish-failed:publish_queue_state failed (injected)"), 1);
  EXPECT_EQ(manager.queue(id), nullptr);
  EXPECT_TRUE(dp.started.empty());
  EXPECT_EQ(dp.published.at(id), QueueState::undefined) << "the second write, once the queue is gone, went through";
}

TEST_F(QueueManagerTest, FreeOfAQueueWithFiltersIsRefused) {
  auto id = *create(params("web1", "port1"), {match("52:54:00:00:00:01")});
  auto r = free(id);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("clear them first"), std::string::npos);
  EXPECT_EQ(state_of(id), QueueState::running);
}

TEST_F(QueueManagerTest, AMacVlanPairBelongsToOneQueuePerUplink) {
  auto a = *create(params("db2", "port1"), {});
  auto first = *manager.set_filter(a, match("52:54:00:aa:bb:cc", 100));
  auto b = *manager.allocate(params("web1", "port2"));
  auto dup = manager.set_filter(b, match("52:54:00:aa:bb:cc", 100));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Errc::conflict);
  EXPECT_EQ(dup.error().message, "queue web1: MAC 52:54:00:aa:bb:cc VLAN 100 is already used by queue db2 (filter " +
                                     std::to_string(first) + ")");
  EXPECT_EQ(state_of(b), QueueState::allocated);
  // Same MAC on another VLAN, or untagged, is another filter.
  EXPECT_TRUE(manager.set_filter(b, match("52:54:00:aa:bb:cc", 200)));
  EXPECT_TRUE(manager.set_filter(b, match("52:54:00:aa:bb:cc")));
  // The same pair on the same queue is a duplicate too.
  EXPECT_FALSE(manager.set_filter(a, match("52:54:00:aa:bb:cc", 100)));
}

TEST_F(QueueManagerTest, FilterIdsAreGlobalNonzeroAndUniqueUpToTheLimit) {
  auto a = *create(params("a", "port1"), {});
  auto b = *create(params("b", "port2"), {});
  std::vector<FilterId> ids;
  for (int i = 0; i < 5; ++i) {
    char m[18];
    std::snprintf(m, sizeof m, "52:54:00:00:00:%02x", i + 1);
    auto f = manager.set_filter(i % 2 ? a : b, match(m));
    ASSERT_TRUE(f) << f.error().message;
    ids.push_back(*f);
  }
  EXPECT_EQ(ids, (std::vector<FilterId>{1, 2, 3, 4, 5}));
  auto over = manager.set_filter(a, match("52:54:00:00:00:99"));
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, Errc::limit_reached);
}

TEST_F(QueueManagerTest, CreateLeavesNothingBehindWhenAFilterFails) {
  dp.fail_next.insert("install_filter");
  auto id = create(params("web1", "port1"), {match("52:54:00:00:00:01")});
  ASSERT_FALSE(id);
  EXPECT_TRUE(manager.queues().empty());
  EXPECT_EQ(manager.filter_count(), 0u);
  EXPECT_TRUE(dp.filters.empty());
  EXPECT_TRUE(dp.started.empty());
  // Its ids were released.
  EXPECT_EQ(*manager.allocate(params("web1", "port1")), 1u);
}

TEST_F(QueueManagerTest, CreateLeavesNothingBehindWhenTheQueueCannotStart) {
  dp.fail_next.insert("start_queue");
  auto id = create(params("web1", "port1"), {match("52:54:00:00:00:01"), match("52:54:00:00:00:02", 9)});
  ASSERT_FALSE(id);
  EXPECT_NE(id.error().message.find("start_queue failed"), std::string::npos);
  EXPECT_TRUE(manager.queues().empty());
  EXPECT_TRUE(dp.filters.empty());
  EXPECT_EQ(manager.filter_count(), 0u);
}

TEST_F(QueueManagerTest, OperatorPauseKeepsFiltersButStopsDelivery) {
  auto id = *create(params("web1", "port1"), {match("52:54:00:00:00:01")});
  ASSERT_TRUE(manager.pause(id));
  EXPECT_EQ(manager.queue(id)->visible_state(), QueueState::paused);
  EXPECT_EQ(dp.published.at(id), QueueState::paused);
  EXPECT_EQ(dp.filters.size(), 1u);
  ASSERT_TRUE(manager.set_filter(id, match("52:54:00:00:00:02")));
  EXPECT_EQ(dp.published.at(id), QueueState::paused) << "a new filter does not end an operator pause";
  ASSERT_TRUE(manager.resume(id));
  EXPECT_EQ(dp.published.at(id), QueueState::running);
  EXPECT_EQ(manager.queue(id)->visible_state(), QueueState::running);
}

TEST_F(QueueManagerTest, PauseAndResumeRefuseQueuesThatCannotRun) {
  auto id = *manager.allocate(params("web1", "port1"));
  ASSERT_TRUE(complete(id));  // paused: no filters
  EXPECT_FALSE(manager.pause(id));
  auto r = manager.resume(id);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("has no filters"), std::string::npos);
}

TEST_F(QueueManagerTest, CpuChangesAreValidatedAndMoveAStartedQueue) {
  auto id = *create(params("web1", "port1", 0u), {match("52:54:00:00:00:01")});
  auto bad = set_cpu(id, 5);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("CPU 5 is not online"), std::string::npos);
  EXPECT_EQ(manager.queue(id)->cpu, 0u);
  ASSERT_TRUE(set_cpu(id, 1));
  EXPECT_EQ(manager.queue(id)->cpu, 1u);
  EXPECT_EQ(dp.started.at(id).cpu, 1u);

  dp.fail_next.insert("move_queue");
  EXPECT_FALSE(set_cpu(id, 0));
  EXPECT_EQ(manager.queue(id)->cpu, 1u) << "a failed move leaves the queue where it was";
}

TEST_F(QueueManagerTest, AllowedCpusLimitPlacementAndAutoPicksTheLeastLoaded) {
  QueueManager pinned(limits(), Placement({1}, {0, 1}), dp);
  auto r = pinned.allocate(params("a", "port1", 0u));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not in the agent's allowed CPUs"), std::string::npos);

  auto a = *manager.allocate(params("a", "port1"));
  auto b = *manager.allocate(params("b", "port2"));
  auto c = *manager.allocate(params("c", "port3"));
  EXPECT_EQ(manager.queue(a)->cpu, 0u);
  EXPECT_EQ(manager.queue(b)->cpu, 1u);
  EXPECT_EQ(manager.queue(c)->cpu, 0u);
}

TEST_F(QueueManagerTest, FindsQueuesByNameOrId) {
  auto id = *manager.allocate(params("web1", "port1"));
  EXPECT_EQ((*manager.find("web1"))->id, id);
  EXPECT_EQ((*manager.find("1"))->name, "web1");
  EXPECT_EQ(manager.find("web2").error().code, Errc::not_found);
  EXPECT_EQ(manager.find("7").error().code, Errc::not_found);
  EXPECT_EQ(manager.find("0").error().code, Errc::invalid_argument);
}

TEST_F(QueueManagerTest, RenameAndVmChangesAreValidated) {
  auto a = *manager.allocate(params("a", "port1"));
  ASSERT_TRUE(manager.allocate(params("b", "port2")));
  EXPECT_EQ(manager.rename(a, "b").error().code, Errc::conflict);
  EXPECT_EQ(manager.rename(a, "no spaces").error().code, Errc::invalid_argument);
  ASSERT_TRUE(manager.rename(a, "a2"));
  ASSERT_TRUE(manager.set_vm(a, "guest 7"));
  EXPECT_EQ(manager.queue(a)->name, "a2");
  EXPECT_EQ(manager.queue(a)->vm, "guest 7");
}

TEST_F(QueueManagerTest, RestoreKeepsIdsAndFiltersAndLeavesTheStartToTheCaller) {
  Queue saved{2, "web1", "vm1", "uplink0", "port1", 1, false, 256, VlanMode::access, QueueState::running, true, {}, {},
              std::nullopt};
  std::vector<Filter> filters{{4, 2, match("52:54:00:00:00:01", 100)}};
  auto id = manager.restore(saved, filters);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, 2u);
  const Queue* q = manager.queue(2);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->filters, std::vector<FilterId>{4});
  EXPECT_EQ(q->vlan_mode, VlanMode::access);
  EXPECT_EQ(q->state, QueueState::set);
  EXPECT_TRUE(manager.awaits_completion(2));
  EXPECT_TRUE(dp.started.empty());

  auto clash = manager.restore(Queue{2, "x", "", "uplink0", "port3", 0, true, 256, VlanMode::trunk, {}, false, {}, {}, std::nullopt}, {});
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().code, Errc::conflict);
}

TEST_F(QueueManagerTest, AStartThatFailsLeavesTheQueueWithItsErrorAndAStartingQueueIsBusy) {
  auto id = *manager.prepare(params("web1", "port1"), {match("52:54:00:00:00:01")});
  ASSERT_TRUE(manager.begin_start(id));
  const auto busy = manager.rename(id, "web2");
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().message, "queue web1: busy: another request is starting it; try again once it has been answered");
  EXPECT_FALSE(manager.begin_remove(id));
  dp.port_busy_starts = 1;
  auto held = manager.try_start(id);
  ASSERT_FALSE(held);
  EXPECT_TRUE(port_still_held(held.error()));
  auto failed = manager.finish_start(id, held);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message, "queue web1: creating the AF_XDP transmit socket on port port1: "
                                    "Device or resource busy");
  EXPECT_EQ(state_of(id), QueueState::set);
  EXPECT_EQ(manager.queue(id)->last_error, "creating the AF_XDP transmit socket on port port1: Device or resource busy");
  // Idle again: it can be started once more, which clears the error.
  ASSERT_TRUE(complete(id));
  EXPECT_EQ(state_of(id), QueueState::running);
  EXPECT_TRUE(manager.queue(id)->last_error.empty());
}

TEST_F(QueueManagerTest, AVhostUserQueueCarriesItsKindToTheDataplaneAndHasOneSubQueue) {
  const std::string socket = "/run/vmq/vu/vm1.sock";
  dp.ports.insert(socket);
  QueueParams p = params("vm1", socket);
  p.port_kind = PortKind::vhost_user;
  auto id = create(p, {FilterMatch{*MacAddress::parse("52:54:00:00:00:01"), 0}});
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(manager.queue(*id)->port_kind, PortKind::vhost_user);
  EXPECT_EQ(dp.started.at(*id).port_kind, PortKind::vhost_user);
  EXPECT_EQ(dp.started.at(*id).port, socket);

  // Sub-queues need a multi-queue tap: refused, nothing created.
  dp.ports.insert("/run/vmq/vu/vm2.sock");
  QueueParams wide = params("vm2", "/run/vmq/vu/vm2.sock");
  wide.port_kind = PortKind::vhost_user;
  wide.sub_queues = 2;
  auto refused = manager.allocate(wide);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::invalid_argument);
  EXPECT_NE(refused.error().message.find("one sub-queue"), std::string::npos) << refused.error().message;
  EXPECT_EQ(manager.queues().size(), 1u);
}

TEST_F(QueueManagerTest, APortIsCheckedByItsKind) {
  QueueParams relative = params("vm1", "vu/vm1.sock");
  relative.port_kind = PortKind::vhost_user;
  auto refused = manager.allocate(relative);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("must be an absolute path"), std::string::npos) << refused.error().message;
  // A path is no network device name.
  refused = manager.allocate(params("vm1", "/run/vmq/vu/vm1.sock"));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("invalid port name"), std::string::npos) << refused.error().message;
  EXPECT_TRUE(manager.queues().empty());
}

TEST(SocketPathTest, AbsolutePrintableShortAndWithoutDotComponents) {
  EXPECT_TRUE(check_socket_path("/run/vmq/vu/web1.sock"));
  EXPECT_TRUE(check_socket_path("/" + std::string(106, 'a')));
  const std::pair<std::string, std::string> refusals[] = {
      {"", "must be an absolute path"},
      {"run/vm1.sock", "must be an absolute path"},
      {"/" + std::string(107, 'a'), "longer than a Unix socket address allows"},
      {"/run/vmq/", "names a directory"},
      {"/run/vmq/vm 1.sock", "only printable ASCII"},
      {"/run//vm1.sock", "component"},
      {"/run/../etc/vm1.sock", "component"},
      {"/run/./vm1.sock", "component"},
  };
  for (const auto& [path, why] : refusals) {
    SCOPED_TRACE(path);
    auto ok = check_socket_path(path);
    ASSERT_FALSE(ok);
    EXPECT_EQ(ok.error().code, Errc::invalid_argument);
    EXPECT_NE(ok.error().message.find(why), std::string::npos) << ok.error().message;
  }
}

}  // namespace
}  // namespace vmq
