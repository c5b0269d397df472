// Core's enums against the classifier's numbers (os/abi_conversions.h).
#include "os/abi_conversions.h"

#include <gtest/gtest.h>

namespace vmq::os {
namespace {

TEST(AbiConversions, OnlyRunningMapsToTheClassifiersRunningState) {
  using S = QueueState;
  EXPECT_EQ(to_abi(S::running), VMQ_QUEUE_RUNNING);
  for (S s : {S::undefined, S::allocated, S::set, S::paused, S::dma_stopped, S::freeing})
    EXPECT_NE(to_abi(s), VMQ_QUEUE_RUNNING) << to_string(s);
  EXPECT_EQ(to_abi(S::paused), VMQ_QUEUE_PAUSED);
  EXPECT_EQ(to_abi(S::undefined), VMQ_QUEUE_UNDEFINED);
}

TEST(AbiConversions, EveryReasonTheClassifierRecordsHasItsCoreNameAndNoOtherNumberDoes) {
  EXPECT_EQ(default_reason_from_abi(VMQ_DEFAULT_OVERSIZE), DefaultReason::oversize);
  EXPECT_EQ(to_string(*default_reason_from_abi(VMQ_DEFAULT_BROADCAST_MULTICAST)), "broadcast_multicast");
  for (std::uint32_t r = 0; r < VMQ_DEFAULT_REASON_COUNT; ++r) ASSERT_TRUE(default_reason_from_abi(r)) << r;
  EXPECT_FALSE(default_reason_from_abi(VMQ_DEFAULT_REASON_COUNT));
  EXPECT_FALSE(default_reason_from_abi(0xffffffffu));
}

}  // namespace
}  // namespace vmq::os
