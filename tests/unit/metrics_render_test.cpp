// vmqd's /metrics text from a snapshot made by hand: the exposition's
// structure (families once, HELP before TYPE before samples, no duplicate
// series, Prometheus's naming rules, bounded label names), the values, and
// what happens to counters that could not be read: they are left out, never 0.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "service/metrics_render.h"

namespace vmq::service {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

bool mentions(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

QueueStats busy_queue_stats() {
  QueueStats s;
  s.classified = {1000, 1514000};
  s.received = 990;
  s.delivered = {980, 1483720};
  s.checksum_completed = 7;
  s.dropped_port_full = 4;
  s.dropped_quota = 3;
  s.dropped_port_refused = 3;
  s.xsk_rx_ring_full = 6;
  s.xsk_rx_dropped = 4;
  s.port_errors = 2;
  s.in_flight = 0;
  return s;
}

MetricsSnapshot sample_snapshot() {
  MetricsSnapshot s;
  s.agent.version = "1.2.3";
  s.agent.start_time_seconds = 1700000000.5;
  s.agent.queues = 2;
  s.agent.filters = 3;
  s.agent.max_queues = 64;
  s.agent.max_filters = 1024;

  UplinkMetrics eth0;
  eth0.info = {"eth0", 2, "native", "bpf-link", 42, false, {}, 3840, 1500, false};
  eth0.default_queue = DefaultQueueStats{};
  eth0.default_queue->by_reason[index_of(DefaultReason::broadcast_multicast)] = {50, 3200};
  eth0.umem = UmemStats{8192, 8000, 100, 92, 0, 7900};
  eth0.tables = ClassifierTables{3, 2};
  UplinkMetrics eth1;  // degraded, and its counters could not be read
  eth1.info = {"eth1", 1, "generic", "netlink", 7, true, "another program replaced ours", 3840, 9000, true};
  s.uplinks = {eth0, eth1};

  QueueMetrics web{"web1", "web \"one\"\\x", "eth0", 1, 512, QueueState::running, false, busy_queue_stats()};
  QueueMetrics db{"db2", "db", "eth0", 0, 256, QueueState::paused, true, std::nullopt};
  s.queues = {web, db};

  WorkerLoad loaded{{1, 4242, 1, std::chrono::milliseconds(1500), 990}, 0.25, 750.0};
  WorkerLoad fresh{{0, 4243, 1, std::chrono::nanoseconds(0), 0}, std::nullopt, std::nullopt};
  s.workers = {loaded, fresh};

  s.migrations.drains.observe(std::chrono::microseconds(240));
  s.migrations.restores.observe(std::chrono::milliseconds(3));
  s.migrations.restores.observe(std::chrono::milliseconds(30));
  s.migrations.restore_failures = 1;
  return s;
}

// The exposition, parsed just enough to check its structure (by hand:
// GCC 12's <regex> does not build cleanly under the sanitizers).
struct Family {
  std::string type;
  std::vector<std::string> samples;  // "name{labels}"
  std::set<std::string> label_names;
};

struct Parsed {
  std::vector<std::string> order;
  std::map<std::string, Family> families;
};

bool is_name_char(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

// Reads a metric or label name at `pos`; empty if there is none.
std::string read_name(const std::string& line, std::size_t& pos) {
  const std::size_t start = pos;
  while (pos < line.size() && is_name_char(line[pos], pos == start)) ++pos;
  return line.substr(start, pos - start);
}

bool is_sample_value(const std::string& text) {
  if (text == "+Inf" || text == "-Inf" || text == "NaN") return true;
  double value = 0;
  const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value);
  return err == std::errc() && end == text.data() + text.size();
}

// name{label="value",...} value; returns false if the line is not one. Label
// values may hold only the escapes \\, \" and \n.
bool parse_sample(const std::string& line, std::string& name, std::set<std::string>& label_names,
                  std::string& series) {
  std::size_t pos = 0;
  name = read_name(line, pos);
  if (name.empty()) return false;
  if (pos < line.size() && line[pos] == '{') {
    ++pos;
    while (pos < line.size() && line[pos] != '}') {
      const std::string label = read_name(line, pos);
      if (label.empty() || line.compare(pos, 2, "=\"") != 0) return false;
      label_names.insert(label);
      pos += 2;
      while (pos < line.size() && line[pos] != '"') {
        if (line[pos] == '\\') {
          if (pos + 1 >= line.size() || std::string("\\\"n").find(line[pos + 1]) == std::string::npos) return false;
          ++pos;
        }
        ++pos;
      }
      if (pos >= line.size()) return false;
      ++pos;  // the closing quote
      if (pos < line.size() && line[pos] == ',') ++pos;
    }
    if (pos >= line.size()) return false;
    ++pos;  // '}'
  }
  if (pos >= line.size() || line[pos] != ' ') return false;
  series = line.substr(0, pos);
  return is_sample_value(line.substr(pos + 1));
}

Parsed parse(const std::string& text) {
  Parsed p;
  std::istringstream in(text);
  std::string line, current, helped;
  while (std::getline(in, line)) {
    if (line.starts_with("# HELP ")) {
      std::size_t pos = 7;
      helped = read_name(line, pos);
      EXPECT_FALSE(helped.empty()) << line;
      EXPECT_TRUE(pos + 1 < line.size() && line[pos] == ' ') << "HELP without text: " << line;
      EXPECT_FALSE(p.families.contains(helped)) << "family twice: " << line;
      continue;
    }
    if (line.starts_with("# TYPE ")) {
      std::size_t pos = 7;
      current = read_name(line, pos);
      EXPECT_EQ(current, helped) << "TYPE without its HELP just before: " << line;
      const std::string type = pos < line.size() ? line.substr(pos + 1) : "";
      EXPECT_TRUE(type == "counter" || type == "gauge" || type == "histogram") << line;
      p.order.push_back(current);
      p.families[current].type = type;
      continue;
    }
    std::string name, series;
    std::set<std::string> labels;
    if (!parse_sample(line, name, labels, series)) {
      ADD_FAILURE() << "not an exposition line: '" << line << "'";
      continue;
    }
    Family& family = p.families[current];
    const bool belongs = name == current || (family.type == "histogram" && (name == current + "_bucket" ||
                                                                            name == current + "_sum" ||
                                                                            name == current + "_count"));
    EXPECT_TRUE(belongs) << "sample outside its family " << current << ": " << line;
    family.samples.push_back(series);
    family.label_names.insert(labels.begin(), labels.end());
  }
  return p;
}

bool is_vmq_name(const std::string& name) {
  return name.starts_with("vmq_") && name.size() > 4 && std::ranges::all_of(name, [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
         });
}

TEST(MetricsRender, StructureFollowsTheTextFormatAndTheNamingRules) {
  const std::string text = render_metrics(sample_snapshot());
  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.back(), '\n');
  const Parsed p = parse(text);
  const std::set<std::string> allowed_labels = {"queue", "vm",    "uplink",      "reason",        "cpu", "state",
                                                "version", "build", "attach_mode", "attach_method", "le",    "kind"};
  std::set<std::string> series;
  for (const auto& [name, family] : p.families) {
    EXPECT_TRUE(is_vmq_name(name)) << name;
    EXPECT_FALSE(family.samples.empty()) << name << ": a header without samples";
    EXPECT_EQ(name.ends_with("_total"), family.type == "counter") << name << " is a " << family.type;
    EXPECT_TRUE(family.type != "histogram" || name.ends_with("_seconds")) << name;
    for (const auto& s : family.samples) EXPECT_TRUE(series.insert(s).second) << "duplicate series " << s;
    for (const auto& label : family.label_names) EXPECT_TRUE(allowed_labels.contains(label)) << label << " in " << name;
  }
}

TEST(MetricsRender, TheParserOfTheseTestsRejectsWhatPrometheusRejects) {
  std::string name, series;
  std::set<std::string> labels;
  EXPECT_TRUE(parse_sample(R"(vmq_x{a="b\"c"} 1)", name, labels, series));
  EXPECT_FALSE(parse_sample(R"(vmq_x{a="b"c"} 1)", name, labels, series));
  EXPECT_FALSE(parse_sample(R"(vmq_x{a="b\tc"} 1)", name, labels, series));
  EXPECT_FALSE(parse_sample("vmq_x 1x", name, labels, series));
  EXPECT_FALSE(parse_sample(R"(vmq_x{a="b"} )", name, labels, series));
  EXPECT_FALSE(parse_sample(R"(vmq_x{a=b} 1)", name, labels, series));
}

TEST(MetricsRender, QueueCountersCarryQueueVmAndUplinkWithTheVmNameEscaped) {
  const std::string text = render_metrics(sample_snapshot());
  const std::string web = R"({queue="web1",vm="web \"one\"\\x",uplink="eth0"})";
  EXPECT_TRUE(has_line(text, "vmq_queue_delivered_frames_total" + web + " 980")) << text;
  EXPECT_TRUE(has_line(text, "vmq_queue_delivered_bytes_total" + web + " 1483720"));
  EXPECT_TRUE(has_line(text, "vmq_queue_received_frames_total" + web + " 990"));
  EXPECT_TRUE(has_line(text, "vmq_queue_classified_frames_total" + web + " 1000"));
  EXPECT_TRUE(has_line(text, "vmq_queue_checksum_completed_frames_total" + web + " 7"));
  EXPECT_TRUE(has_line(text, "vmq_queue_port_errors_total" + web + " 2"));
  EXPECT_TRUE(has_line(text, "vmq_queue_cpu" + web + " 1"));
  EXPECT_TRUE(has_line(text, "vmq_queue_frames" + web + " 512"));
}

TEST(MetricsRender, DropReasonsAddUpToWhatWasClassifiedButNotDelivered) {
  const std::string text = render_metrics(sample_snapshot());
  const std::string web = R"(queue="web1",vm="web \"one\"\\x",uplink="eth0")";
  const std::map<std::string, int> reasons = {
      {"port_full", 4}, {"quota", 3}, {"port_refused", 3}, {"rx_ring_full", 6}, {"rx_dropped", 4}};
  int sum = 0;
  for (const auto& [reason, value] : reasons) {
    EXPECT_TRUE(has_line(text, "vmq_queue_dropped_frames_total{" + web + ",reason=\"" + reason + "\"} " +
                                   std::to_string(value)))
        << reason;
    sum += value;
  }
  const QueueStats s = busy_queue_stats();
  EXPECT_EQ(static_cast<std::uint64_t>(sum), s.classified.packets - s.delivered.packets);
}

TEST(MetricsRender, UnreadableQueueCountersAreLeftOutNotZero) {
  const std::string text = render_metrics(sample_snapshot());
  const std::string db = R"({queue="db2",vm="db",uplink="eth0"})";
  EXPECT_TRUE(has_line(text, "vmq_queue_counters_readable" + db + " 0"));
  EXPECT_TRUE(has_line(text, R"(vmq_queue_counters_readable{queue="web1",vm="web \"one\"\\x",uplink="eth0"} 1)"));
  EXPECT_FALSE(mentions(text, "_total{queue=\"db2\"")) << text;
  EXPECT_FALSE(mentions(text, "vmq_queue_in_flight_frames{queue=\"db2\""));
  // What vmqd knows without the counters is still there.
  EXPECT_TRUE(has_line(text, "vmq_queue_paused_by_operator" + db + " 1"));
  EXPECT_TRUE(has_line(text, R"(vmq_queue_state{queue="db2",vm="db",uplink="eth0",state="paused"} 1)"));
}

TEST(MetricsRender, QueueStateIsAStateSetWithOneStateSet) {
  const std::string text = render_metrics(sample_snapshot());
  const std::string web = R"(vmq_queue_state{queue="web1",vm="web \"one\"\\x",uplink="eth0",state=")";
  for (const char* state : {"allocated", "set", "paused", "dma-stopped", "freeing"})
    EXPECT_TRUE(has_line(text, web + state + "\"} 0")) << state;
  EXPECT_TRUE(has_line(text, web + "running\"} 1"));
}

TEST(MetricsRender, UplinksShowClassifierDegradationAndUnreadableCountersLeftOut) {
  const std::string text = render_metrics(sample_snapshot());
  EXPECT_TRUE(has_line(
      text, R"(vmq_classifier_info{uplink="eth0",build="single-buffer",attach_mode="native",attach_method="bpf-link"} 1)"));
  EXPECT_TRUE(has_line(
      text, R"(vmq_classifier_info{uplink="eth1",build="multi-buffer",attach_mode="generic",attach_method="netlink"} 1)"));
  EXPECT_TRUE(has_line(text, R"(vmq_uplink_degraded{uplink="eth0"} 0)"));
  EXPECT_TRUE(has_line(text, R"(vmq_uplink_degraded{uplink="eth1"} 1)"));
  EXPECT_TRUE(has_line(text, R"(vmq_uplink_counters_readable{uplink="eth0"} 1)"));
  EXPECT_TRUE(has_line(text, R"(vmq_uplink_counters_readable{uplink="eth1"} 0)"));
  EXPECT_TRUE(has_line(text, R"(vmq_default_queue_frames_total{uplink="eth0",reason="broadcast_multicast"} 50)"));
  EXPECT_TRUE(has_line(text, R"(vmq_default_queue_bytes_total{uplink="eth0",reason="broadcast_multicast"} 3200)"));
  EXPECT_TRUE(has_line(text, R"(vmq_default_queue_frames_total{uplink="eth0",reason="no_filter"} 0)"));
  EXPECT_TRUE(has_line(text, R"(vmq_umem_frames{uplink="eth0"} 8192)"));
  EXPECT_TRUE(has_line(text, R"(vmq_umem_frames_in_kernel{uplink="eth0"} 8000)"));
  EXPECT_TRUE(has_line(text, R"(vmq_umem_fill_ring_entries{uplink="eth0"} 7900)"));
  EXPECT_TRUE(has_line(text, R"(vmq_classifier_filters{uplink="eth0"} 3)"));
  EXPECT_FALSE(mentions(text, "vmq_default_queue_frames_total{uplink=\"eth1\""));
  EXPECT_FALSE(mentions(text, "vmq_umem_frames{uplink=\"eth1\""));
  EXPECT_FALSE(mentions(text, "vmq_classifier_filters{uplink=\"eth1\""));
}

TEST(MetricsRender, WorkerLoadIsInSecondsAndLeftOutUntilKnown) {
  const std::string text = render_metrics(sample_snapshot());
  EXPECT_TRUE(has_line(text, R"(vmq_worker_busy_ratio{cpu="1"} 0.25)"));
  EXPECT_TRUE(has_line(text, R"(vmq_worker_seconds_per_frame{cpu="1"} 7.5e-07)"));
  EXPECT_TRUE(has_line(text, R"(vmq_worker_cpu_seconds_total{cpu="1"} 1.5)"));
  EXPECT_TRUE(has_line(text, R"(vmq_worker_frames_total{cpu="1"} 990)"));
  EXPECT_TRUE(has_line(text, R"(vmq_worker_frames_total{cpu="0"} 0)"));
  EXPECT_FALSE(mentions(text, "vmq_worker_busy_ratio{cpu=\"0\"}"));
  EXPECT_FALSE(mentions(text, "vmq_worker_seconds_per_frame{cpu=\"0\"}"));
}

TEST(MetricsRender, AgentHealthAndMigrations) {
  const std::string text = render_metrics(sample_snapshot());
  EXPECT_TRUE(has_line(text, R"(vmq_build_info{version="1.2.3"} 1)"));
  EXPECT_TRUE(has_line(text, "vmq_start_time_seconds 1700000000.5"));
  EXPECT_TRUE(has_line(text, "vmq_queues 2"));
  EXPECT_TRUE(has_line(text, "vmq_filters_limit 1024"));
  EXPECT_TRUE(has_line(text, "vmq_migration_drain_duration_seconds_count 1"));
  EXPECT_TRUE(has_line(text, R"(vmq_migration_drain_duration_seconds_bucket{le="0.0001"} 0)"));
  EXPECT_TRUE(has_line(text, R"(vmq_migration_drain_duration_seconds_bucket{le="0.00025"} 1)"));
  EXPECT_TRUE(has_line(text, "vmq_migration_drain_duration_seconds_sum 0.00024"));
  EXPECT_TRUE(has_line(text, "vmq_migration_restore_duration_seconds_count 2"));
  EXPECT_TRUE(has_line(text, R"(vmq_migration_restore_duration_seconds_bucket{le="0.005"} 1)"));
  EXPECT_TRUE(has_line(text, R"(vmq_migration_restore_duration_seconds_bucket{le="0.05"} 2)"));
  EXPECT_TRUE(has_line(text, "vmq_migration_restore_failures_total 1"));
  EXPECT_TRUE(has_line(text, "vmq_migration_drain_failures_total 0"));
}

TEST(MetricsRender, WithoutQueuesOrWorkersTheirFamiliesAreAbsent) {
  MetricsSnapshot s = sample_snapshot();
  s.queues.clear();
  s.workers.clear();
  const std::string text = render_metrics(s);
  EXPECT_FALSE(mentions(text, "vmq_queue_")) << text;
  EXPECT_FALSE(mentions(text, "vmq_worker_"));
  EXPECT_TRUE(has_line(text, R"(vmq_uplink_degraded{uplink="eth0"} 0)"));
  parse(text);
}

// docs/metrics.md is the operator's reference: every family vmqd can render is in it.
TEST(MetricsRender, EveryMetricIsDocumented) {
  std::ifstream doc(VMQ_METRICS_DOC);
  ASSERT_TRUE(doc) << "cannot read " << VMQ_METRICS_DOC;
  const std::string text((std::istreambuf_iterator<char>(doc)), std::istreambuf_iterator<char>());
  for (const auto& name : parse(render_metrics(sample_snapshot())).order)
    EXPECT_TRUE(mentions(text, "`" + name + "`")) << name << " is not in docs/metrics.md";
}

}  // namespace
}  // namespace vmq::service
