#include <gtest/gtest.h>

#include "format.h"

namespace vmq::cli {
namespace {

TEST(VlanText, NoneIsUntagged) {
  EXPECT_EQ(vlan_text(std::nullopt), "untagged");
  EXPECT_EQ(vlan_text(api::FilterVlan{100}), "100");
}

TEST(MatchText, SaysTheMacAndTheVlan) {
  const MacAddress mac = MacAddress::parse("52:54:00:aa:bb:cc").value();
  EXPECT_EQ(match_text({mac, api::FilterVlan{100}}), "MAC 52:54:00:aa:bb:cc VLAN 100");
  EXPECT_EQ(match_text({mac, std::nullopt}), "MAC 52:54:00:aa:bb:cc untagged");
}

TEST(QueueLabel, NamesAndNumbersTheQueue) { EXPECT_EQ(queue_label(api::QueueRef{3, "web1"}), "web1 (id 3)"); }

TEST(CpuListText, CompressesRuns) {
  EXPECT_EQ(cpu_list_text({0, 1, 2, 5, 7, 8}), "0-2,5,7-8");
  EXPECT_EQ(cpu_list_text({3}), "3");
  EXPECT_EQ(cpu_list_text({}), "");
}

TEST(ListText, JoinsWithCommas) { EXPECT_EQ(list_text({"access", "trunk"}), "access, trunk"); }

TEST(UptimeText, ShowsTheTwoLargestUnits) {
  EXPECT_EQ(uptime_text(12), "12s");
  EXPECT_EQ(uptime_text(125), "2m 5s");
  EXPECT_EQ(uptime_text(3 * 3600 + 61), "3h 1m");
  EXPECT_EQ(uptime_text(93784), "1d 2h 3m");
}

TEST(DurationText, PicksAUnit) {
  EXPECT_EQ(duration_text(850), "850 us");
  EXPECT_EQ(duration_text(1500), "1.50 ms");
  EXPECT_EQ(duration_text(999999), "1000 ms");
  EXPECT_EQ(duration_text(2350000), "2.35 s");
}

TEST(RateText, DashWhenUnknown) {
  EXPECT_EQ(rate_text(std::nullopt), "-");
  EXPECT_EQ(rate_text(0.0), "0.0");
  EXPECT_EQ(rate_text(2.25), "2.2");
  EXPECT_EQ(rate_text(99.6), "100");
  EXPECT_EQ(rate_text(123456.0), "123456");
}

TEST(DroppedTotal, AddsTheWorkersAndTheKernelsDrops) {
  api::Counters counters;
  counters.dropped = {1, 2, 32};
  counters.xsk = {4, 8, 16, 0, 0};
  EXPECT_EQ(api::dropped_total(counters), 47u);
  EXPECT_EQ(api::dropped_total(api::Counters{}), 0u);
}

}  // namespace
}  // namespace vmq::cli
