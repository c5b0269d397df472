// Waiting for the classifier's running lookups, with and without membarrier.
#include "os/rcu_grace_period.h"

#include <gtest/gtest.h>
#include <linux/membarrier.h>

#include <cerrno>
#include <vector>

#include "support/privileges.h"

namespace vmq::os {
namespace {

// A membarrier(2) as a host booted with nohz_full has it: MEMBARRIER_CMD_GLOBAL
// is not offered and refused with EINVAL.
struct NohzFullMembarrier {
  std::vector<int>* calls;
  bool offers_global = false;  // some kernels offer it at start and refuse it later
  long operator()(int cmd) const {
    calls->push_back(cmd);
    if (cmd == MEMBARRIER_CMD_QUERY) return offers_global ? MEMBARRIER_CMD_GLOBAL : MEMBARRIER_CMD_PRIVATE_EXPEDITED;
    errno = EINVAL;
    return -1;
  }
};

TEST(RcuGracePeriod, OnANohzFullHostTheWaitIsAMapInMapUpdate) {
  VMQ_REQUIRE_BPF();
  std::vector<int> calls;
  auto grace = RcuGracePeriod::create(NohzFullMembarrier{&calls});
  ASSERT_TRUE(grace) << grace.error().message;
  EXPECT_STREQ(grace->method(), "map-in-map");
  for (int i = 0; i < 3; ++i) {
    auto ok = grace->wait();
    EXPECT_TRUE(ok) << ok.error().message;
  }
  EXPECT_EQ(calls, std::vector<int>{MEMBARRIER_CMD_QUERY}) << "membarrier GLOBAL was tried where it is not offered";
}

TEST(RcuGracePeriod, AMembarrierRefusedLaterFallsBackToTheMapInMap) {
  VMQ_REQUIRE_BPF();
  std::vector<int> calls;
  auto grace = RcuGracePeriod::create(NohzFullMembarrier{&calls, true});
  ASSERT_TRUE(grace) << grace.error().message;
  EXPECT_STREQ(grace->method(), "membarrier");
  auto ok = grace->wait();
  EXPECT_TRUE(ok) << ok.error().message;
  EXPECT_STREQ(grace->method(), "map-in-map");
  ok = grace->wait();
  EXPECT_TRUE(ok);
  EXPECT_EQ(calls, (std::vector<int>{MEMBARRIER_CMD_QUERY, MEMBARRIER_CMD_GLOBAL}));
}

TEST(RcuGracePeriod, OtherMembarrierErrorsAreReported) {
  auto grace = RcuGracePeriod::create([](int cmd) -> long {
    if (cmd == MEMBARRIER_CMD_QUERY) return MEMBARRIER_CMD_GLOBAL;
    errno = EPERM;
    return -1;
  });
  ASSERT_TRUE(grace);
  auto ok = grace->wait();
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().sys_errno, EPERM);
  EXPECT_NE(ok.error().message.find("membarrier"), std::string::npos) << ok.error().message;
}

TEST(RcuGracePeriod, TheHostsOwnMembarrierWorks) {
  VMQ_REQUIRE_BPF();
  auto grace = RcuGracePeriod::create();
  ASSERT_TRUE(grace) << grace.error().message;
  auto ok = grace->wait();
  EXPECT_TRUE(ok) << ok.error().message;
}

}  // namespace
}  // namespace vmq::os
