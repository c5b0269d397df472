// What vmqctl prints for people, made from the typed replies (the same
// values tests/unit/api_codec_test.cpp round-trips).
#include <gtest/gtest.h>

#include <string>

#include "filter_text.h"
#include "migrate_text.h"
#include "queue_text.h"
#include "stats_text.h"
#include "status_text.h"
#include "trace_text.h"
#include "unit/api_samples.h"

namespace vmq::cli {
namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(QueueText, ShowsSettingsFiltersAndCounters) {
  const std::string text = queue_detail_text(test::sample_queue());
  EXPECT_TRUE(has(text, "queue:               web1 (id 3)\n")) << text;
  EXPECT_TRUE(has(text, "vm:                  vm-web1\n")) << text;
  EXPECT_TRUE(has(text, "paused by operator:  yes\n")) << text;
  EXPECT_TRUE(has(text, "last error:          port vnet3 vanished\n")) << text;
  EXPECT_TRUE(has(text, "vlan mode:           access\n")) << text;
  EXPECT_TRUE(has(text, "worker:              tid 4242 on CPU 2\n")) << text;
  EXPECT_TRUE(has(text, "   7  52:54:00:aa:bb:cc       100  12345\n")) << text;
  EXPECT_TRUE(has(text, "   8  52:54:00:aa:bb:dd  untagged      -\n")) << "a hit count not read is '-', not 0\n"
                                                                     << text;
  EXPECT_TRUE(has(text, "  classified                 11   1100\n")) << text;
  EXPECT_TRUE(has(text, "  xsk tx_invalid_descs       12      -\n")) << text;
}

TEST(QueueText, CountersThatCouldNotBeReadSaySo) {
  api::Queue q = test::sample_queue();
  q.counters.reset();
  q.counters_error = "queue_stats failed";
  EXPECT_TRUE(has(queue_detail_text(q), "counters:\n  unavailable: queue_stats failed\n"));
  const std::string list = queue_list_text({{q}});
  EXPECT_TRUE(has(list, "paused    2        2   -          -        -\n")) << "never a zero\n" << list;
}

TEST(QueueText, OneLineSentences) {
  const api::Queue q = test::sample_queue();
  EXPECT_EQ(queue_added_text(q), "queue web1 (id 3) added: paused on CPU 2, filter 7 (MAC 52:54:00:aa:bb:cc VLAN 100)\n");
  EXPECT_EQ(queue_updated_text(q), "queue web1 (id 3) updated: CPU 2, VM vm-web1, state paused\n");
  EXPECT_EQ(queue_state_text(q), "queue web1 (id 3) is paused\n");
  EXPECT_EQ(queue_deleted_text({3, "web1", 12, 1500}), "queue web1 (id 3) deleted: 12 frame(s) drained in 1.50 ms\n");
  EXPECT_EQ(filter_added_text(test::sample_filter()), "filter 7 added to queue web1 (id 3): MAC 52:54:00:aa:bb:cc VLAN 100\n");
}

TEST(StatusText, ShowsTheAgentAndADegradedUplink) {
  const std::string text = status_text(test::sample<api::StatusReply>());
  EXPECT_TRUE(has(text, "vmqd 1.2.3 (protocol 1), pid 4711 on host kvm-a, up 1d 2h 3m\n")) << text;
  EXPECT_TRUE(has(text, "queues: 2 of 64, filters: 3 of 1024\n")) << text;
  EXPECT_TRUE(has(text, "warning: uplink eth0 is degraded: another program replaced vmq's\n")) << text;
  const std::string caps = caps_text(test::sample<api::CapsReply>());
  EXPECT_TRUE(has(caps, "queue frames:   64..4096 (default 512)\n")) << caps;
  EXPECT_TRUE(has(caps, "worker CPUs:    0-2,5\n")) << caps;
}

TEST(StatsText, ListsEveryReasonThenTheTotal) {
  api::StatsReply stats = test::sample<api::StatsReply>();
  stats.uplinks[0].default_queue.by_reason.push_back({"vlan_mismatch", {9, 900}});
  const std::string text = stats_text(stats, false, nullptr);
  const auto no_filter = text.find("no_filter");
  const auto oversize = text.find("oversize");
  const auto added = text.find("vlan_mismatch");
  const auto total = text.find("total");
  ASSERT_NE(total, std::string::npos) << text;
  EXPECT_LT(no_filter, oversize);
  EXPECT_LT(oversize, added) << "a reason a newer agent adds comes after the known ones";
  EXPECT_LT(added, total);
  EXPECT_TRUE(has(text, "UMEM: 4096 frames: 4000 in kernel, 90 in flight, 6 in worker, 0 lost; fill ring 3990\n"))
      << text;
  EXPECT_TRUE(has(text, "25.0%")) << text;
  EXPECT_FALSE(has(stats_text(stats, true, nullptr), "UMEM")) << "a named queue's stats leave out the uplinks";
}

TEST(TraceText, ExplainsBothDestinations) {
  const std::string to_queue = trace_text(test::sample<api::TraceReply>());
  EXPECT_TRUE(has(to_queue, "delivered to queue web1 (id 3)\n\n")) << to_queue;
  EXPECT_TRUE(has(to_queue, "destination:  queue web1 (id 3)\n")) << to_queue;
  EXPECT_TRUE(has(to_queue, "VLAN tag:     removed (access mode)\n")) << to_queue;
  api::TraceReply to_default = test::sample<api::TraceReply>();
  to_default.destination = api::TraceDestination::default_queue;
  to_default.queue.reset();
  to_default.tag_removed.reset();
  to_default.reason = "no_filter";
  to_default.frame.vlan = 0;
  const std::string text = trace_text(to_default);
  EXPECT_TRUE(has(text, "destination:  default queue\n")) << text;
  EXPECT_TRUE(has(text, "reason:       no_filter\n")) << text;
  EXPECT_TRUE(has(text, "priority tag (VLAN 0)")) << text;
}

TEST(MigrateText, SummarizesDrainAndRestore) {
  EXPECT_EQ(drain_summary(test::sample<api::MigrateDrainReply>(), "/tmp/web1.json"),
            "queue web1 drained on kvm-a: 12 frame(s) delivered during the drain in 240 us, DMA stopped; document "
            "written to /tmp/web1.json\n");
  EXPECT_EQ(restore_summary(test::sample<api::MigrateRestoreReply>()),
            "queue web1 (id 3) restored from kvm-a: paused on CPU 2 (least loaded), 2 filter(s), in 310 us\n");
  api::MigrateRestoreReply again = test::sample<api::MigrateRestoreReply>();
  again.already_restored = true;
  EXPECT_EQ(restore_summary(again), "queue web1 (id 3) is already restored here (paused)\n");
}

}  // namespace
}  // namespace vmq::cli
