#include "core/rebalancer.h"

#include <gtest/gtest.h>

namespace vmq {
namespace {

RebalancerSettings on(unsigned sustain = 2, unsigned cooldown = 3) {
  RebalancerSettings s;
  s.enabled = true;
  s.high = 0.75;
  s.low = 0.25;
  s.sustain = sustain;
  s.cooldown = cooldown;
  return s;
}

// Four queues on CPU 0, streams to two of them: CPU 0 overloaded, CPU 1 idle.
const std::vector<QueueLoad> kSkewed = {{1, 0, true, 400'000}, {2, 0, true, 400'000}, {3, 0, true, 0}, {4, 0, true, 0}};
const std::vector<CpuLoad> kCpu0Busy = {{0, 0.95}, {1, 0.0}};

TEST(Rebalancer, ThresholdsMustNotOverlap) {
  RebalancerSettings s = on();
  EXPECT_TRUE(s.check());
  s.low = 0.8;
  auto ok = s.check();
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().message, "the thresholds overlap: low (0.8) must be below high (0.75)");
  s.low = 0.2;
  s.high = 1.5;
  EXPECT_FALSE(s.check());
  s.high = 0.75;
  s.sustain = 0;
  EXPECT_FALSE(s.check());
}

TEST(Rebalancer, DisabledNeverMoves) {
  RebalancerSettings s = on();
  s.enabled = false;
  Rebalancer r(s, {0, 1});
  for (int round = 0; round < 10; ++round) EXPECT_TRUE(r.decide(kCpu0Busy, kSkewed).empty());
}

TEST(Rebalancer, SpreadsOneBusyQueueOnceTheCpuStaysOverloaded) {
  Rebalancer r(on(/*sustain=*/2), {0, 1});
  EXPECT_TRUE(r.decide(kCpu0Busy, kSkewed).empty()) << "one round above the threshold is not enough";
  const auto moves = r.decide(kCpu0Busy, kSkewed);
  ASSERT_EQ(moves.size(), 1u);
  EXPECT_EQ(moves[0].from, 0u);
  EXPECT_EQ(moves[0].to, 1u);
  EXPECT_TRUE(moves[0].queue == 1 || moves[0].queue == 2) << "a busy queue moves, not an idle one";
  EXPECT_EQ(moves[0].reason, "spread: CPU 0 was 95% busy (above 75%) for 2 rounds, CPU 1 0%");
}

TEST(Rebalancer, AfterAMoveTheCpuMustBeOverloadedForSustainRoundsAgain) {
  Rebalancer r(on(/*sustain=*/2), {0, 1});
  r.decide(kCpu0Busy, kSkewed);
  ASSERT_EQ(r.decide(kCpu0Busy, kSkewed).size(), 1u);
  EXPECT_TRUE(r.decide(kCpu0Busy, kSkewed).empty());
}

TEST(Rebalancer, AnExplicitlyPinnedQueueNeverMoves) {
  std::vector<QueueLoad> pinned = kSkewed;
  for (auto& q : pinned) q.movable = false;
  Rebalancer r(on(1), {0, 1});
  for (int round = 0; round < 10; ++round) EXPECT_TRUE(r.decide(kCpu0Busy, pinned).empty());
  // With only one busy queue movable, that one goes.
  pinned[1].movable = true;
  const auto moves = r.decide(kCpu0Busy, pinned);
  ASSERT_EQ(moves.size(), 1u);
  EXPECT_EQ(moves[0].queue, 2u);
}

TEST(Rebalancer, NoMoveThatMakesThingsWorse) {
  Rebalancer r(on(1), {0, 1});
  // Both CPUs overloaded: nowhere to go.
  EXPECT_TRUE(r.decide({{0, 0.95}, {1, 0.9}}, {{1, 0, true, 1}, {2, 0, true, 1}, {3, 1, true, 1}}).empty());
  // A single queue carrying all the load would only move the overload.
  EXPECT_TRUE(r.decide({{0, 0.95}, {1, 0.0}}, {{1, 0, true, 1000}, {2, 0, true, 0}}).empty());
}

TEST(Rebalancer, PacksBackWhenEveryCpuIsQuiet) {
  Rebalancer r(on(/*sustain=*/2, /*cooldown=*/0), {0, 1});
  const std::vector<QueueLoad> spread = {{1, 0, true, 10}, {2, 1, true, 10}, {3, 0, true, 0}};
  const std::vector<CpuLoad> quiet = {{0, 0.05}, {1, 0.02}};
  EXPECT_TRUE(r.decide(quiet, spread).empty());
  const auto moves = r.decide(quiet, spread);
  ASSERT_EQ(moves.size(), 1u);
  EXPECT_EQ(moves[0].queue, 2u);
  EXPECT_EQ(moves[0].from, 1u) << "the quieter CPU is emptied";
  EXPECT_EQ(moves[0].to, 0u);
  EXPECT_EQ(moves[0].reason, "pack: every CPU below 25% for 2 rounds; CPU 1 (2%) onto CPU 0 (5%)");
}

TEST(Rebalancer, PackingNeverFillsACpuPastTheLowThreshold) {
  Rebalancer r(on(1, 0), {0, 1});
  // Each below 25%, together 30%: packing would invite the next spread.
  for (int round = 0; round < 5; ++round)
    EXPECT_TRUE(r.decide({{0, 0.15}, {1, 0.15}}, {{1, 0, true, 10}, {2, 1, true, 10}}).empty());
}

TEST(Rebalancer, PackingCanBeTurnedOff) {
  RebalancerSettings s = on(1, 0);
  s.pack = false;
  Rebalancer r(s, {0, 1});
  for (int round = 0; round < 5; ++round)
    EXPECT_TRUE(r.decide({{0, 0.05}, {1, 0.02}}, {{1, 0, true, 10}, {2, 1, true, 10}}).empty());
}

TEST(Rebalancer, AMovedQueueCoolsDownBeforeItMovesAgain) {
  Rebalancer r(on(/*sustain=*/1, /*cooldown=*/3), {0, 1});
  std::vector<QueueLoad> queues = kSkewed;
  queues[3].movable = false;  // CPU 0 keeps a pinned queue: only CPU 1 could be emptied
  const auto moves = r.decide(kCpu0Busy, queues);
  ASSERT_EQ(moves.size(), 1u);
  for (auto& q : queues)
    if (q.queue == moves[0].queue) q.cpu = 1;
  // Everything quiet at once: the moved queue may not pack back yet.
  const std::vector<CpuLoad> quiet = {{0, 0.05}, {1, 0.02}};
  EXPECT_TRUE(r.decide(quiet, queues).empty());
  EXPECT_TRUE(r.decide(quiet, queues).empty());
  const auto back = r.decide(quiet, queues);
  ASSERT_EQ(back.size(), 1u) << "after the cooldown the pack goes ahead";
  EXPECT_EQ(back[0].queue, moves[0].queue);
  EXPECT_EQ(back[0].to, 0u);
}

TEST(Rebalancer, QueuesOnCpusNoLongerAllowedAreLeftAlone) {
  Rebalancer r(on(1), {1, 2});
  EXPECT_TRUE(r.decide({{0, 0.99}, {1, 0}, {2, 0}}, {{1, 0, true, 10}, {2, 0, true, 10}}).empty());
}

}  // namespace
}  // namespace vmq
