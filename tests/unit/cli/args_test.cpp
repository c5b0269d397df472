#include <gtest/gtest.h>

#include "args.h"

namespace vmq::cli {
namespace {

std::string message_of(const Error& e) { return e.message; }

TEST(ParseNumber, AcceptsDecimalWithinRange) {
  EXPECT_EQ(parse_number("--cpu", "0", 4095).value(), 0u);
  EXPECT_EQ(parse_number("--cpu", "4095", 4095).value(), 4095u);
}

TEST(ParseNumber, RefusesWhatIsNotANumber) {
  for (const char* bad : {"", "x", "12k", "-1", "+3", " 1", "1 ", "0x10", "1.5"}) {
    auto n = parse_number("--cpu", bad, 4095);
    ASSERT_FALSE(n) << bad;
    EXPECT_EQ(n.error().code, Errc::invalid_argument);
    EXPECT_TRUE(message_of(n.error()).starts_with("--cpu: ")) << n.error().message;
  }
}

TEST(ParseNumber, RefusesOutOfRangeNamingTheRange) {
  auto n = parse_number("--cpu", "4096", 4095);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().message, "--cpu: 4096 is out of range 0..4095");
  EXPECT_FALSE(parse_number("--frames", "99999999999999999999999", UINT32_MAX));
}

TEST(ParseFilter, VlanOmittedMeansUntagged) {
  auto match = parse_filter("52:54:00:AA:bb:cc", std::nullopt, false);
  ASSERT_TRUE(match);
  EXPECT_FALSE(match->vlan);
  EXPECT_EQ(api::to_json(*match), nlohmann::json::parse(R"({"mac": "52:54:00:aa:bb:cc", "vlan": null})"));
  ASSERT_TRUE(parse_filter("52:54:00:aa:bb:cc", std::nullopt, true));
}

TEST(ParseFilter, TaggedFilterCarriesItsVlan) {
  auto match = parse_filter("52:54:00:aa:bb:cc", "100", false);
  ASSERT_TRUE(match);
  EXPECT_EQ(api::to_json(*match), nlohmann::json::parse(R"({"mac": "52:54:00:aa:bb:cc", "vlan": 100})"));
  EXPECT_TRUE(parse_filter("52:54:00:aa:bb:cc", "1", false));
  EXPECT_TRUE(parse_filter("52:54:00:aa:bb:cc", "4094", false));
}

TEST(ParseFilter, VlanZeroPointsToUntagged) {
  auto match = parse_filter("52:54:00:aa:bb:cc", "0", false);
  ASSERT_FALSE(match);
  EXPECT_TRUE(match.error().message.starts_with("--vlan: VLAN 0 out of range 1..4094")) << match.error().message;
  EXPECT_NE(match.error().message.find("--untagged"), std::string::npos);
}

TEST(ParseFilter, RefusesVlansOutOfRange) {
  for (const char* bad : {"4095", "5000", "-1"}) {
    auto match = parse_filter("52:54:00:aa:bb:cc", bad, false);
    ASSERT_FALSE(match) << bad;
    EXPECT_TRUE(match.error().message.starts_with("--vlan: VLAN")) << match.error().message;
  }
  auto text = parse_filter("52:54:00:aa:bb:cc", "ten", false);
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().message, "--vlan: 'ten' is not a VLAN id (1..4094)");
}

TEST(ParseFilter, VlanAndUntaggedExcludeEachOther) {
  auto match = parse_filter("52:54:00:aa:bb:cc", "100", true);
  ASSERT_FALSE(match);
  EXPECT_NE(match.error().message.find("--vlan and --untagged"), std::string::npos);
}

TEST(ParseFilter, RefusesMalformedGroupAndZeroMacs) {
  for (const char* bad : {"52:54:00:aa:bb", "52-54-00-aa-bb-cc", "ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:01",
                          "00:00:00:00:00:00"}) {
    auto match = parse_filter(bad, std::nullopt, false);
    ASSERT_FALSE(match) << bad;
    EXPECT_EQ(match.error().code, Errc::invalid_argument);
    EXPECT_TRUE(match.error().message.starts_with("--mac: ")) << match.error().message;
  }
}

TEST(ParseMac, AcceptsGroupAddressesForTraces) {
  EXPECT_TRUE(parse_mac("--dst", "ff:ff:ff:ff:ff:ff"));
  auto bad = parse_mac("--dst", "zz:ff:ff:ff:ff:ff");
  ASSERT_FALSE(bad);
  EXPECT_TRUE(bad.error().message.starts_with("--dst: invalid MAC address"));
}

TEST(ParseFrameVlan, AllowsPriorityTagAndReservedId) {
  EXPECT_EQ(parse_frame_vlan("--vlan", "0").value(), 0);
  EXPECT_EQ(parse_frame_vlan("--vlan", "4095").value(), 4095);
  auto bad = parse_frame_vlan("--vlan2", "5000");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "--vlan2: '5000' is not a VLAN id (0..4095)");
}

TEST(ParseVlanMode, NamesTheOptionAndTheChoices) {
  EXPECT_EQ(parse_vlan_mode_option("access").value(), VlanMode::access);
  EXPECT_EQ(parse_vlan_mode_option("trunk").value(), VlanMode::trunk);
  auto bad = parse_vlan_mode_option("hybrid");
  ASSERT_FALSE(bad);
  EXPECT_TRUE(bad.error().message.starts_with("--vlan-mode: "));
  EXPECT_NE(bad.error().message.find("access or trunk"), std::string::npos);
}

TEST(ParseInterval, AcceptsFractionsWithinBounds) {
  EXPECT_DOUBLE_EQ(parse_interval("1").value(), 1.0);
  EXPECT_DOUBLE_EQ(parse_interval("0.5").value(), 0.5);
  for (const char* bad : {"0", "0.01", "3601", "x", "", "1s", "-1", "inf", "nan"})
    EXPECT_FALSE(parse_interval(bad)) << bad;
}

TEST(ResolveStatsArgs, WithoutWatchThereIsNoInterval) {
  auto args = resolve_stats_args("web1", std::nullopt);
  ASSERT_TRUE(args);
  EXPECT_EQ(args->queue, "web1");
  EXPECT_FALSE(args->interval);
}

TEST(ResolveStatsArgs, BareWatchMeansEverySecond) {
  auto args = resolve_stats_args(std::nullopt, std::string());
  ASSERT_TRUE(args);
  EXPECT_FALSE(args->queue);
  EXPECT_EQ(args->interval, 1.0);
}

TEST(ResolveStatsArgs, NumberAfterWatchIsTheInterval) {
  auto args = resolve_stats_args("web1", std::string("2.5"));
  ASSERT_TRUE(args);
  EXPECT_EQ(args->queue, "web1");
  EXPECT_EQ(args->interval, 2.5);
}

TEST(ResolveStatsArgs, NameAfterWatchIsTheQueue) {
  auto args = resolve_stats_args(std::nullopt, std::string("web1"));
  ASSERT_TRUE(args);
  EXPECT_EQ(args->queue, "web1");
  EXPECT_EQ(args->interval, 1.0);
}

TEST(ResolveStatsArgs, RefusesABadIntervalOnceTheQueueIsGiven) {
  EXPECT_FALSE(resolve_stats_args("web1", std::string("db2")));
  EXPECT_FALSE(resolve_stats_args(std::nullopt, std::string("0")));
}

}  // namespace
}  // namespace vmq::cli
