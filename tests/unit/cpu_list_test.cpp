// The kernel's CPU list syntax, as /sys/devices/system/cpu/online writes it
// and as vmqd's `cpus` key and --cpus flag take it.
#include "core/cpu_list.h"

#include <gtest/gtest.h>

namespace vmq {
namespace {

TEST(CpuList, ReadsRangesAndSingleCpus) {
  struct Case {
    const char* text;
    std::set<unsigned> cpus;
  };
  const Case cases[] = {
      {"0-3,8", {0, 1, 2, 3, 8}}, {"5", {5}},         {"0,2,4", {0, 2, 4}}, {"2-2", {2}},
      {"1-2,2-3", {1, 2, 3}},     {"4095", {4095}},   {"", {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto cpus = parse_cpu_list(c.text);
    ASSERT_TRUE(cpus) << cpus.error().message;
    EXPECT_EQ(*cpus, c.cpus);
  }
}

TEST(CpuList, IgnoresTheNewlineOfASysfsFile) {
  EXPECT_EQ(parse_cpu_list("0-1\n"), (std::set<unsigned>{0, 1}));
  EXPECT_EQ(parse_cpu_list("\n"), std::set<unsigned>{});
}

TEST(CpuList, RefusesAnythingElseNamingTheText) {
  const char* bad[] = {"3-1", "a", "0-3,", ",1", "1,,2", "4096", "0-4096", "-1", "0-", "1 2", "0x1", " 1", "1-2-3"};
  for (const char* text : bad) {
    SCOPED_TRACE(text);
    auto cpus = parse_cpu_list(text);
    ASSERT_FALSE(cpus);
    EXPECT_EQ(cpus.error().code, Errc::invalid_argument);
    EXPECT_EQ(cpus.error().message, std::string("invalid CPU list '") + text + "'");
  }
}

}  // namespace
}  // namespace vmq
