#include <gtest/gtest.h>

#include "core/mac_address.h"

namespace vmq {
namespace {

TEST(MacAddress, ParsesAndPrintsLowerCase) {
  auto mac = MacAddress::parse("52:54:00:AA:bb:0c");
  ASSERT_TRUE(mac);
  EXPECT_EQ(mac->to_string(), "52:54:00:aa:bb:0c");
  EXPECT_EQ(mac->bytes()[3], 0xaa);
  EXPECT_FALSE(mac->is_group());
}

TEST(MacAddress, RecognisesGroupAndZeroAddresses) {
  EXPECT_TRUE(MacAddress::parse("ff:ff:ff:ff:ff:ff")->is_group());
  EXPECT_TRUE(MacAddress::parse("01:00:5e:00:00:01")->is_group());
  EXPECT_TRUE(MacAddress::parse("33:33:00:00:00:01")->is_group());
  EXPECT_TRUE(MacAddress::parse("00:00:00:00:00:00")->is_zero());
}

TEST(MacAddress, RejectsMalformedText) {
  for (const char* bad : {"", "52:54:00:aa:bb", "52:54:00:aa:bb:cc:dd", "52-54-00-aa-bb-cc", "52:54:00:aa:bb:cg",
                          "5:254:00:aa:bb:cc", "52:54:00:aa:bb:c", " 52:54:00:aa:bb:c", "+2:54:00:aa:bb:cc"}) {
    auto mac = MacAddress::parse(bad);
    ASSERT_FALSE(mac) << bad;
    EXPECT_EQ(mac.error().code, Errc::invalid_argument);
    EXPECT_NE(mac.error().message.find("invalid MAC address"), std::string::npos);
  }
}

}  // namespace
}  // namespace vmq
