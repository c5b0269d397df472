// /proc/stat's per-CPU softirq times, as the rebalancer reads them.
#include "core/proc_stat.h"

#include <gtest/gtest.h>

namespace vmq {
namespace {

TEST(ProcStat, ReadsEachCpusSoftirqTicksAndSkipsTheTotalAndOtherLines) {
  const char* text =
      "cpu  10132153 290696 3084719 46828483 16683 0 25195 0 0 0\n"
      "cpu0 1393280 32966 572056 13343292 6130 0 17875 0 0 0\n"
      "cpu1 1335000 30000 500000 13000000 5000 0 7320 0 0 0\n"
      "intr 199292 0 0\n"
      "ctxt 2241\n"
      "softirq 35862 0 16436 2 48 0 0 19321 0 0 55\n";
  auto ticks = parse_softirq_ticks(text);
  ASSERT_TRUE(ticks) << ticks.error().message;
  EXPECT_EQ(*ticks, (std::map<unsigned, std::uint64_t>{{0, 17875}, {1, 7320}}));
}

TEST(ProcStat, ALineWithoutTheSoftirqFieldIsAnError) {
  auto ticks = parse_softirq_ticks("cpu0 1 2 3 4 5\n");
  ASSERT_FALSE(ticks);
  EXPECT_NE(ticks.error().message.find("cpu0 1 2 3 4 5"), std::string::npos) << ticks.error().message;
  EXPECT_FALSE(parse_softirq_ticks("cpuX 1 2 3 4 5 6 7\ncpu0 1 2 3 4 5 6 x\n"));
  auto empty = parse_softirq_ticks("");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

}  // namespace
}  // namespace vmq
