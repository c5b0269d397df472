#include "core/attach_policy.h"

#include <gtest/gtest.h>

namespace vmq {
namespace {

TEST(AttachPolicy, ReadsTheTwoPolicies) {
  EXPECT_EQ(parse_attach_policy("auto"), AttachPolicy::automatic);
  EXPECT_EQ(parse_attach_policy("netlink"), AttachPolicy::netlink);
}

TEST(AttachPolicy, RefusesOthersNamingTheChoices) {
  for (const char* text : {"", "native", "Auto", "auto ", "bpf-link"}) {
    SCOPED_TRACE(text);
    auto policy = parse_attach_policy(text);
    ASSERT_FALSE(policy);
    EXPECT_EQ(policy.error().code, Errc::invalid_argument);
    EXPECT_EQ(policy.error().message,
              std::string("invalid XDP attach policy '") + text + "' (expected auto or netlink)");
  }
}

}  // namespace
}  // namespace vmq
