// /metrics and `vmqctl --json` read the same sources: a queue's counters in the
// exposition equal those in its JSON view, and a counter the dataplane cannot
// read is null in the JSON and absent from /metrics. Migration drains and
// restores made through the control API are counted.
#include <gtest/gtest.h>

#include <string>

#include "api/protocol.h"
#include "service/control_api.h"
#include "service/metrics_render.h"
#include "service/metrics_snapshot.h"
#include "service/views.h"
#include "unit/fake_dataplane.h"
#include "unit/handle_now.h"

namespace vmq::service {
namespace {

using json = nlohmann::json;

class CountingDataplane : public test::FakeDataplane {
 public:
  QueueStats stats;
  Result<QueueStats> queue_stats(QueueId id) const override {
    auto base = FakeDataplane::queue_stats(id);
    if (!base) return base;
    return stats;
  }
};

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

class MetricsCollectTest : public ::testing::Test {
 protected:
  MetricsCollectTest()
      : manager(QueueLimits{}, Placement({}, {0, 1}), dp),
        control(manager, dp, dp, AgentInfo{"9.8.7", "host-a", std::chrono::steady_clock::now()},
                []() -> Result<void> { return {}; }) {
    dp.stats.classified = {120, 180000};
    dp.stats.received = 120;
    dp.stats.delivered = {118, 177000};
    dp.stats.dropped_quota = 2;
  }

  std::string metrics() {
    AgentMetrics agent;
    agent.version = "9.8.7";
    return render_metrics(collect_metrics(manager, dp, agent, control.migrations()));
  }

  json call(const std::string& method, json params) {
    const api::Request request{1, method, std::move(params)};
    const api::Reply reply = test::handle_now(control, request);
    if (reply.error) return json{{"error", reply.error->message}};
    return reply.result;
  }

  CountingDataplane dp;
  QueueManager manager;
  ControlApi control;
};

TEST_F(MetricsCollectTest, QueueCountersEqualTheJsonView) {
  const json added = call("queue.add", {{"name", "web1"}, {"vm", "web"}, {"uplink", "uplink0"}, {"port", "port1"},
                                        {"filters", json::array({{{"mac", "52:54:00:aa:bb:cc"}, {"vlan", 100}}})}});
  ASSERT_FALSE(added.contains("error")) << added;
  const json counters = call("queue.show", {{"queue", "web1"}})["counters"];
  const std::string text = metrics();
  const std::string labels = R"({queue="web1",vm="web",uplink="uplink0"})";
  EXPECT_TRUE(has_line(text, "vmq_queue_delivered_frames_total" + labels + " " +
                                 counters["delivered"]["packets"].dump()))
      << text;
  EXPECT_TRUE(has_line(text, "vmq_queue_delivered_bytes_total" + labels + " " + counters["delivered"]["bytes"].dump()));
  EXPECT_TRUE(has_line(text, "vmq_queue_classified_frames_total" + labels + " " +
                                 counters["classified"]["packets"].dump()));
  EXPECT_TRUE(has_line(text, R"(vmq_queue_dropped_frames_total{queue="web1",vm="web",uplink="uplink0",reason="quota"} )" +
                                 counters["dropped"]["quota"].dump()));
  EXPECT_TRUE(has_line(text, "vmq_queues 1"));
  EXPECT_TRUE(has_line(text, "vmq_filters 1"));
  EXPECT_TRUE(has_line(text, R"(vmq_queue_state{queue="web1",vm="web",uplink="uplink0",state="running"} 1)"));
  EXPECT_TRUE(has_line(text, R"(vmq_classifier_filters{uplink="uplink0"} 1)"));
}

TEST_F(MetricsCollectTest, CountersThatCannotBeReadAreNullInJsonAndAbsentInMetrics) {
  ASSERT_FALSE(call("queue.add", {{"name", "web1"}, {"uplink", "uplink0"}, {"port", "port1"},
                                  {"filters", json::array({{{"mac", "52:54:00:aa:bb:cc"}}})}})
                   .contains("error"));
  dp.failing_reads.insert("queue_stats");
  const json shown = call("queue.show", {{"queue", "web1"}});
  EXPECT_TRUE(shown["counters"].is_null());
  const std::string text = metrics();
  EXPECT_EQ(text.find("vmq_queue_delivered_frames_total{"), std::string::npos) << text;
  EXPECT_TRUE(has_line(text, R"(vmq_queue_counters_readable{queue="web1",vm="",uplink="uplink0"} 0)"));
}

TEST_F(MetricsCollectTest, MigrationDrainsRestoresAndFailuresAreCounted) {
  ASSERT_FALSE(call("queue.add", {{"name", "web1"}, {"uplink", "uplink0"}, {"port", "port1"},
                                  {"filters", json::array({{{"mac", "52:54:00:aa:bb:cc"}}})}})
                   .contains("error"));
  const json drained = call("migrate.drain", {{"queue", "web1"}});
  ASSERT_FALSE(drained.contains("error")) << drained;
  EXPECT_TRUE(call("migrate.drain", {{"queue", "web1"}}).contains("error"));  // gone now
  ASSERT_FALSE(call("migrate.restore", {{"document", drained["document"]}}).contains("error"));
  EXPECT_FALSE(call("migrate.restore", {{"document", drained["document"]}}).contains("error"));  // already restored
  EXPECT_TRUE(call("migrate.restore", {{"document", json{{"format", "other"}}}}).contains("error"));

  const auto& m = control.migrations();
  EXPECT_EQ(m.drains.count(), 1u);
  EXPECT_DOUBLE_EQ(m.drains.sum_seconds(), drained["drain_us"].get<double>() * 1e-6);
  EXPECT_EQ(m.restores.count(), 1u) << "a restore that found the queue already there created nothing";
  EXPECT_EQ(m.drain_failures, 1u);
  EXPECT_EQ(m.restore_failures, 1u);
  const std::string text = metrics();
  EXPECT_TRUE(has_line(text, "vmq_migration_drain_duration_seconds_count 1")) << text;
  EXPECT_TRUE(has_line(text, "vmq_migration_restore_duration_seconds_count 1"));
  EXPECT_TRUE(has_line(text, "vmq_migration_drain_failures_total 1"));
  EXPECT_TRUE(has_line(text, "vmq_migration_restore_failures_total 1"));
}

}  // namespace
}  // namespace vmq::service
