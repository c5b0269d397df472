// The text exposition writer: escaping, number formatting, headers written
// with a family's first sample only, histogram lines.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "service/metrics_exposition.h"
#include "service/metrics_histogram.h"

namespace vmq::service {
namespace {

TEST(MetricsExposition, LabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(escape_label_value(R"(a\b"c)" "\n" "d"), R"(a\\b\"c\nd)");
  EXPECT_EQ(escape_label_value("plain-name_1.2"), "plain-name_1.2");
  EXPECT_EQ(escape_label_value(""), "");
}

TEST(MetricsExposition, HelpEscapesBackslashAndNewlineButNotQuotes) {
  EXPECT_EQ(escape_help("say \"hi\"\\\nnext"), "say \"hi\"\\\\\\nnext");
}

TEST(MetricsExposition, ValuesAreExactAndSpecialValuesUsePrometheusSpelling) {
  EXPECT_EQ(format_value(0.5), "0.5");
  EXPECT_EQ(format_value(3.0), "3");
  EXPECT_EQ(format_value(1e-9), "1e-09");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
}

TEST(MetricsExposition, FamilyHeaderComesWithItsFirstSampleOnly) {
  Exposition out;
  out.family("vmq_empty", MetricType::gauge, "Never sampled.");
  out.family("vmq_things_total", MetricType::counter, "Things.");
  out.sample({{"queue", "web\"1"}, {"vm", "a\\b"}}, std::uint64_t{18446744073709551615ull});
  out.sample({}, std::uint64_t{0});
  out.family("vmq_ratio", MetricType::gauge, "A share.");
  out.sample({{"cpu", "1"}}, 0.25);
  EXPECT_EQ(out.text(),
            "# HELP vmq_things_total Things.\n"
            "# TYPE vmq_things_total counter\n"
            "vmq_things_total{queue=\"web\\\"1\",vm=\"a\\\\b\"} 18446744073709551615\n"
            "vmq_things_total 0\n"
            "# HELP vmq_ratio A share.\n"
            "# TYPE vmq_ratio gauge\n"
            "vmq_ratio{cpu=\"1\"} 0.25\n");
}

TEST(MetricsExposition, HistogramWritesCumulativeBucketsInfSumAndCount) {
  DurationHistogram h({0.125, 0.5, 1});  // binary fractions: the sum is exact
  h.observe(std::chrono::microseconds(62500));  // <= 0.125
  h.observe(std::chrono::milliseconds(125));    // == 0.125: bounds are inclusive
  h.observe(std::chrono::milliseconds(250));    // <= 0.5
  h.observe(std::chrono::seconds(2));           // only +Inf
  Exposition out;
  out.family("vmq_wait_seconds", MetricType::histogram, "Waits.");
  out.sample({{"uplink", "eth0"}}, h.sample());
  EXPECT_EQ(out.text(),
            "# HELP vmq_wait_seconds Waits.\n"
            "# TYPE vmq_wait_seconds histogram\n"
            "vmq_wait_seconds_bucket{uplink=\"eth0\",le=\"0.125\"} 2\n"
            "vmq_wait_seconds_bucket{uplink=\"eth0\",le=\"0.5\"} 3\n"
            "vmq_wait_seconds_bucket{uplink=\"eth0\",le=\"1\"} 3\n"
            "vmq_wait_seconds_bucket{uplink=\"eth0\",le=\"+Inf\"} 4\n"
            "vmq_wait_seconds_sum{uplink=\"eth0\"} 2.4375\n"
            "vmq_wait_seconds_count{uplink=\"eth0\"} 4\n");
}

TEST(MetricsExposition, EmptyHistogramStillReportsZeroCounts) {
  DurationHistogram h({1.0});
  Exposition out;
  out.family("vmq_x_seconds", MetricType::histogram, "X.");
  out.sample({}, h.sample());
  EXPECT_EQ(out.text(),
            "# HELP vmq_x_seconds X.\n# TYPE vmq_x_seconds histogram\n"
            "vmq_x_seconds_bucket{le=\"1\"} 0\nvmq_x_seconds_bucket{le=\"+Inf\"} 0\n"
            "vmq_x_seconds_sum 0\nvmq_x_seconds_count 0\n");
}

}  // namespace
}  // namespace vmq::service
