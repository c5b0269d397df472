// A Dataplane that records what the agent asked of it and can be told to
// fail: the seam through which the core logic is tested without root.
#pragma once

#include <cerrno>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/dataplane.h"

namespace vmq::test {

class FakeDataplane : public Dataplane {
 public:
  struct Installed {
    QueueId queue;
    FilterId filter;
  };

  std::vector<UplinkInfo> uplink_list{{"uplink0", 1, "native", "bpf-link", 42, false, {}, 3840, 1500, false}};
  std::set<std::string> ports{"port1", "port2", "port3", "port4"};
  std::map<QueueId, QueueSpec> started;            // queues with sockets and a worker
  std::map<QueueId, QueueState> published;        // the classifier's view
  std::map<std::pair<std::string, std::string>, Installed> filters;  // (uplink, match) -> filter
  std::vector<std::string> calls;                  // every call, in order
  std::set<std::string> fail_next;                 // names of calls that fail once
  std::uint64_t frames_in_ring = 0;                // delivered at the next drain probe
  int port_busy_starts = 0;                        // starts refused as if the port were still held; negative: all
  int probes_before_empty = 0;                     // drain probes that find the rings busy; negative: all do
  std::map<QueueId, std::uint64_t> delivered;      // what drain probes report as delivered so far

  std::vector<UplinkInfo> uplinks() const override { return uplink_list; }
  std::vector<std::string> uplink_names() const override {
    std::vector<std::string> names;
    for (const auto& u : uplink_list) names.push_back(u.name);
    return names;
  }

  Result<void> check_port(PortKind, std::string_view port) const override {
    if (!ports.contains(std::string(port)))
      return fail(Errc::not_found, "port " + std::string(port) + " does not exist");
    return {};
  }

  // What the tests put between the dataplane and a worker (none by
  // default: every change settles at once).
  std::function<Result<void>(const QueueSpec&)> on_start;
  std::function<Result<bool>(QueueId)> on_settle;

  Result<bool> change_settled(QueueId queue) override {
    if (auto e = injected("change_settled")) return std::unexpected(e->error());
    return on_settle ? on_settle(queue) : true;
  }

  Result<void> start_queue(const QueueSpec& spec) override {
    if (auto e = injected("start_queue")) return *e;
    if (port_busy_starts != 0) {
      if (port_busy_starts > 0) --port_busy_starts;
      return std::unexpected(system_error(EBUSY, "creating the AF_XDP transmit socket on port " + spec.port));
    }
    if (on_start) {
      if (auto ok = on_start(spec); !ok) return ok;
    }
    started[spec.id] = spec;
    delivered[spec.id] = 0;
    return {};
  }

  Result<void> publish_queue_state(const QueueSpec& spec, QueueState state) override {
    if (auto e = injected("publish_queue_state")) return *e;
    published[spec.id] = state;
    return {};
  }

  Result<void> install_filter(std::string_view uplink, const FilterMatch& match, QueueId queue,
                              FilterId filter) override {
    if (auto e = injected("install_filter")) return *e;
    filters[{std::string(uplink), match.describe()}] = {queue, filter};
    return {};
  }

  Result<void> remove_filter(std::string_view uplink, const FilterMatch& match) override {
    if (auto e = injected("remove_filter")) return *e;
    filters.erase({std::string(uplink), match.describe()});
    return {};
  }

  Result<void> move_queue(QueueId queue, unsigned cpu) override {
    if (auto e = injected("move_queue")) return *e;
    started.at(queue).cpu = cpu;
    return {};
  }

  // Busy while frames are in the ring (the probe delivers them) or
  // probes_before_empty says so; "drained <id>" is recorded for every probe
  // that finds the rings empty.
  Result<DrainProbe> drain_probe(QueueId queue) override {
    if (auto e = injected("drain_probe")) return std::unexpected(e->error());
    DrainProbe probe{true, delivered[queue], QueueStats{}};
    if (frames_in_ring > 0 || probes_before_empty != 0) {
      probe.rings_empty = false;
      delivered[queue] += std::exchange(frames_in_ring, 0);
      if (probes_before_empty > 0) --probes_before_empty;
      return probe;
    }
    calls.push_back("drained " + std::to_string(queue));
    return probe;
  }

  void stop_queue(QueueId queue) override {
    calls.push_back("stop_queue");
    started.erase(queue);
  }

  Result<QueueStats> queue_stats(QueueId queue) const override {
    if (failing_reads.contains("queue_stats")) return fail(Errc::system, "queue_stats failed (injected)");
    QueueStats stats;
    if (auto it = received.find(queue); it != received.end()) stats.received = it->second;
    return stats;
  }
  std::map<QueueId, std::uint64_t> received;  // what queue_stats() reports as taken from the RX rings
  Result<std::uint64_t> filter_hits(std::string_view, FilterId) const override {
    if (failing_reads.contains("filter_hits")) return fail(Errc::system, "filter_hits failed (injected)");
    return 0;
  }
  std::set<std::string> failing_reads;  // names of read calls that fail until removed
  Result<DefaultQueueStats> default_queue_stats(std::string_view) const override { return DefaultQueueStats{}; }
  Result<UmemStats> umem_stats(std::string_view) const override { return UmemStats{}; }
  Result<ClassifierTables> classifier_tables(std::string_view uplink) const override {
    ClassifierTables tables;
    for (const auto& [key, installed] : filters) tables.filters += key.first == uplink;
    for (const auto& [id, state] : published) tables.queues += state != QueueState::undefined;
    return tables;
  }
  Result<TraceVerdict> trace(std::string_view, std::span<const std::uint8_t> frame, std::uint32_t) override {
    return TraceVerdict{TraceVerdict::Destination::default_queue, DefaultReason::no_filter, 0, 0,
                        {frame.begin(), frame.end()}};
  }
  std::vector<UplinkInfo> check_attachments() override { return {}; }
  std::vector<WorkerSample> worker_samples() const override { return workers; }
  std::vector<WorkerSample> workers;  // what worker_samples() reports

 private:
  std::optional<std::unexpected<Error>> injected(const std::string& call) {
    calls.push_back(call);
    if (fail_next.erase(call)) return std::unexpected(Error{Errc::system, call + " failed (injected)"});
    return std::nullopt;
  }
};

}  // namespace vmq::test
