#include <gtest/gtest.h>

#include "format.h"

namespace vmq::cli {
namespace {

TEST(Member, FollowsAPathAndToleratesMissingSteps) {
  const json j = json::parse(R"({"a": {"b": {"c": 7}}, "s": "x"})");
  EXPECT_EQ(member(j, {"a", "b", "c"}), 7);
  EXPECT_TRUE(member(j, {"a", "missing", "c"}).is_null());
  EXPECT_TRUE(member(j, {"s", "b"}).is_null());
  EXPECT_TRUE(member(json::array(), {"a"}).is_null());
}

TEST(Text, PrintsEachKindOfValue) {
  EXPECT_EQ(text(json("web1")), "web1");
  EXPECT_EQ(text(json(42)), "42");
  EXPECT_EQ(text(json(true)), "yes");
  EXPECT_EQ(text(json(false)), "no");
  EXPECT_EQ(text(json(nullptr)), "");
  EXPECT_EQ(text(json("")), "");
}

TEST(Count, IsZeroWhenAbsent) {
  EXPECT_EQ(count(json(12)), 12u);
  EXPECT_EQ(count(json::parse("12")), 12u);
  EXPECT_EQ(count(json(-1)), 0u);
  EXPECT_EQ(count(json(nullptr)), 0u);
  EXPECT_EQ(count(json("12")), 0u);
}

TEST(VlanText, NullIsUntagged) {
  EXPECT_EQ(vlan_text(json(nullptr)), "untagged");
  EXPECT_EQ(vlan_text(json(100)), "100");
}

TEST(QueueLabel, NamesAndNumbersTheQueue) {
  EXPECT_EQ(queue_label(json::parse(R"({"id": 3, "name": "web1"})")), "web1 (id 3)");
}

TEST(CpuListText, CompressesRuns) {
  EXPECT_EQ(cpu_list_text(json::parse("[0, 1, 2, 5, 7, 8]")), "0-2,5,7-8");
  EXPECT_EQ(cpu_list_text(json::parse("[3]")), "3");
  EXPECT_EQ(cpu_list_text(json::array()), "");
}

TEST(ListText, JoinsWithCommas) { EXPECT_EQ(list_text(json::parse(R"(["access", "trunk"])")), "access, trunk"); }

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
  const json counters = json::parse(R"({"dropped": {"port_full": 1, "quota": 2, "port_refused": 32},
                                        "xsk": {"rx_dropped": 4, "rx_ring_full": 8, "rx_fill_ring_empty": 16}})");
  EXPECT_EQ(dropped_total(counters), 47u);
  EXPECT_EQ(dropped_total(json::object()), 0u);
}

}  // namespace
}  // namespace vmq::cli
