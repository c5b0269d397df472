#include <gtest/gtest.h>

#include "rates.h"

namespace vmq::cli {
namespace {

TEST(RatePerSecond, ScalesByTheElapsedTime) {
  EXPECT_DOUBLE_EQ(rate_per_second(100, 300, 1000).value(), 200.0);
  EXPECT_DOUBLE_EQ(rate_per_second(100, 300, 500).value(), 400.0);
  EXPECT_DOUBLE_EQ(rate_per_second(7, 7, 2000).value(), 0.0);
}

TEST(RatePerSecond, UnknownWithoutElapsedTimeOrWhenTheCounterWentBack) {
  EXPECT_FALSE(rate_per_second(100, 300, 0));
  EXPECT_FALSE(rate_per_second(100, 300, -5));
  EXPECT_FALSE(rate_per_second(300, 100, 1000));
}

TEST(RateTracker, FirstSampleHasNoRate) {
  RateTracker rates;
  rates.next_sample(10'000);
  EXPECT_FALSE(rates.rate("queue/1/rx", 50));
}

TEST(RateTracker, ComparesEachKeyWithThePreviousSample) {
  RateTracker rates;
  rates.next_sample(10'000);
  rates.rate("queue/1/rx", 50);
  rates.rate("queue/2/rx", 0);
  rates.next_sample(12'000);
  EXPECT_DOUBLE_EQ(rates.rate("queue/1/rx", 250).value(), 100.0);
  EXPECT_DOUBLE_EQ(rates.rate("queue/2/rx", 10).value(), 5.0);
  EXPECT_FALSE(rates.rate("queue/3/rx", 10));  // a new queue
  rates.next_sample(13'000);  // queue 2 is gone from this sample
  EXPECT_DOUBLE_EQ(rates.rate("queue/1/rx", 260).value(), 10.0);
  EXPECT_DOUBLE_EQ(rates.rate("queue/3/rx", 40).value(), 30.0);
  rates.next_sample(14'000);
  EXPECT_FALSE(rates.rate("queue/2/rx", 20));  // back with a reused id: no history
}

}  // namespace
}  // namespace vmq::cli
