// A queue's counters are the sums of its sub-queues' (VMMQ), each sub-queue's
// own figures kept beside them.
#include <gtest/gtest.h>

#include "core/telemetry.h"

namespace vmq {
namespace {

QueueStats part(std::uint64_t received, std::uint64_t delivered, std::uint64_t quota_drops, int tid) {
  QueueStats s;
  s.received = received;
  s.delivered = {delivered, delivered * 100};
  s.dropped_quota = quota_drops;
  s.dropped_port_full = 1;
  s.xsk_rx_ring_full = 2;
  s.worker_tid = tid;
  return s;
}

TEST(SubQueueStats, TheQueuesCountersAreTheSumsAndEachSubQueueKeepsItsOwn) {
  const QueueStats sum = sum_of_sub_queues({{1, part(10, 9, 1, 111)}, {0, part(20, 18, 2, 222)}});
  EXPECT_EQ(sum.received, 30u);
  EXPECT_EQ(sum.delivered.packets, 27u);
  EXPECT_EQ(sum.delivered.bytes, 2700u);
  EXPECT_EQ(sum.dropped_quota, 3u);
  EXPECT_EQ(sum.dropped_port_full, 2u);
  EXPECT_EQ(sum.xsk_rx_ring_full, 4u);
  EXPECT_EQ(sum.worker_tid, 111) << "the first sub-queue's worker";
  ASSERT_EQ(sum.sub_queues.size(), 2u);
  EXPECT_EQ(sum.sub_queues[0].cpu, 1u);
  EXPECT_EQ(sum.sub_queues[0].received, 10u);
  EXPECT_EQ(sum.sub_queues[0].dropped, 2u) << "port full and quota";
  EXPECT_EQ(sum.sub_queues[1].cpu, 0u);
  EXPECT_EQ(sum.sub_queues[1].delivered.packets, 18u);
  EXPECT_EQ(sum.sub_queues[1].worker_tid, 222);
}

TEST(SubQueueStats, AQueueOfOneHasOneSubQueue) {
  const QueueStats sum = sum_of_sub_queues({{3, part(5, 5, 0, 7)}});
  EXPECT_EQ(sum.received, 5u);
  ASSERT_EQ(sum.sub_queues.size(), 1u);
  EXPECT_EQ(sum.sub_queues[0].cpu, 3u);
}

}  // namespace
}  // namespace vmq
