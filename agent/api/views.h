// The objects of vmqd's replies, as docs/json.md describes them: queues,
// filters, uplinks, workers, the default queue. Field names are a stable
// interface within protocol version 1: fields may be added, none renamed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/codec.h"
#include "api/records.h"

namespace vmq::api {

// "web1 (id 3)" in vmqctl's sentences.
struct QueueRef {
  std::uint32_t id = 0;
  std::string name;

  bool operator==(const QueueRef&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("id", self.id);
    v("name", self.name);
  }
};

struct FilterRef {
  std::uint32_t id = 0;

  bool operator==(const FilterRef&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("id", self.id);
  }
};

// A counter vmqd could not read is null, with the reason in hits_error:
// never a zero.
struct Filter {
  std::uint32_t id = 0;
  QueueRef queue;
  FilterRule rule;
  std::optional<std::uint64_t> hits;
  std::optional<std::string> hits_error;

  bool operator==(const Filter&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("id", self.id);
    v("queue", self.queue);
    FilterRule::fields(v, self.rule);
    v("hits", self.hits);
    v.omittable("hits_error", self.hits_error);
  }
};

struct QueueWorker {
  std::uint32_t tid = 0;  // 0 while no thread serves the queue
  std::uint32_t cpu = 0;

  bool operator==(const QueueWorker&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("tid", self.tid);
    v("cpu", self.cpu);
  }
};

// VMMQ: one of a queue's sub-queues, the CPU serving it and its part of the
// queue's counters (absent when the counters could not be read).
struct SubQueueCounters {
  std::uint64_t received = 0;
  Traffic delivered;
  std::uint64_t dropped = 0;

  bool operator==(const SubQueueCounters&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("received", self.received);
    v("delivered", self.delivered);
    v("dropped", self.dropped);
  }
};

struct SubQueue {
  std::uint32_t index = 0;
  std::uint32_t cpu = 0;
  std::optional<SubQueueCounters> counters;

  bool operator==(const SubQueue&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("index", self.index);
    v("cpu", self.cpu);
    v.omittable("counters", self.counters);
  }
};

// A queue's last move to another CPU: `by` "operator" or "rebalancer".
struct QueueMove {
  std::uint32_t from = 0;
  std::uint32_t to = 0;
  std::string by;
  std::string reason;
  std::uint64_t at_ms = 0;  // Unix time

  bool operator==(const QueueMove&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("from", self.from);
    v("to", self.to);
    v("by", self.by);
    v("reason", self.reason);
    v("at_ms", self.at_ms);
  }
};

// A queue; `worker` in every reply but queue.list's. Counters that could not
// be read are null with counters_error beside them.
struct Queue {
  std::uint32_t id = 0;
  QueueSettings settings;
  std::uint32_t cpu = 0;
  std::string cpu_mode;    // "pinned" (the operator chose the CPU) or "auto" (the rebalancer may move it)
  std::string state;       // what the classifier sees: running, paused, ...
  std::string ndis_state;  // the NDIS state machine's state
  std::optional<std::string> last_error;
  std::vector<Filter> filters;
  std::optional<Counters> counters;
  std::optional<std::string> counters_error;
  std::optional<QueueWorker> worker;
  std::optional<QueueMove> last_move;
  std::vector<SubQueue> sub_queues{};  // one for a queue of one

  bool operator==(const Queue&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("id", self.id);
    QueueSettings::fields(v, self.settings);
    v("cpu", self.cpu);
    v("cpu_mode", self.cpu_mode);
    v("state", self.state);
    v("ndis_state", self.ndis_state);
    v("last_error", self.last_error);
    v("filters", self.filters);
    v("counters", self.counters);
    v.omittable("counters_error", self.counters_error);
    v.omittable("worker", self.worker);
    v.omittable("last_move", self.last_move);
    v("sub_queues", self.sub_queues);
  }
};

struct Uplink {
  std::string name;
  std::uint32_t rx_queues = 0;
  std::string attach_mode;    // "native" or "generic"
  std::string attach_method;  // "libxdp-dispatcher", "bpf-link" or "netlink"
  std::uint32_t program_id = 0;
  bool degraded = false;
  std::optional<std::string> degraded_reason;
  std::uint32_t max_frame_len = 0;
  std::uint32_t mtu = 0;
  std::string classifier_build;  // "single-buffer" or "multi-buffer"

  bool operator==(const Uplink&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("name", self.name);
    v("rx_queues", self.rx_queues);
    v("attach_mode", self.attach_mode);
    v("attach_method", self.attach_method);
    v("program_id", self.program_id);
    v("degraded", self.degraded);
    v("degraded_reason", self.degraded_reason);
    v("max_frame_len", self.max_frame_len);
    v("mtu", self.mtu);
    v("classifier_build", self.classifier_build);
  }
};

struct ReasonTraffic {
  std::string reason;
  Traffic traffic;
  bool operator==(const ReasonTraffic&) const = default;
};

// Frames that went to the host's switch, by reason: every reason of
// base/default_reasons.h in that order, then any a newer agent adds.
struct DefaultQueueTraffic {
  std::vector<ReasonTraffic> by_reason;
  Traffic total;
  bool operator==(const DefaultQueueTraffic&) const = default;
};

template <>
struct Codec<DefaultQueueTraffic> {
  static json encode(const DefaultQueueTraffic& traffic);
  static std::expected<DefaultQueueTraffic, ValueProblem> decode(const json& j);
};

struct Umem {
  std::uint64_t frames_total = 0;
  std::uint64_t frames_in_kernel = 0;
  std::uint64_t frames_in_flight = 0;
  std::uint64_t frames_in_worker = 0;
  std::uint64_t frames_lost = 0;
  std::uint64_t fill_ring_entries = 0;

  bool operator==(const Umem&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("frames_total", self.frames_total);
    v("frames_in_kernel", self.frames_in_kernel);
    v("frames_in_flight", self.frames_in_flight);
    v("frames_in_worker", self.frames_in_worker);
    v("frames_lost", self.frames_lost);
    v("fill_ring_entries", self.fill_ring_entries);
  }
};

struct ClassifierTables {
  std::uint32_t filters = 0;
  std::uint32_t queues = 0;

  bool operator==(const ClassifierTables&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("filters", self.filters);
    v("queues", self.queues);
  }
};

struct UplinkStats {
  std::string name;
  DefaultQueueTraffic default_queue;
  Umem umem;
  ClassifierTables classifier;

  bool operator==(const UplinkStats&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("name", self.name);
    v("default_queue", self.default_queue);
    v("umem", self.umem);
    v("classifier", self.classifier);
  }
};

// A worker thread: totals since it started; load over the last second (none until known).
struct Worker {
  std::uint32_t cpu = 0;
  std::uint32_t tid = 0;
  std::uint64_t queues = 0;
  std::uint64_t frames = 0;
  double cpu_seconds = 0;
  std::optional<double> busy_share;
  std::optional<double> ns_per_frame;

  bool operator==(const Worker&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("cpu", self.cpu);
    v("tid", self.tid);
    v("queues", self.queues);
    v("frames", self.frames);
    v("cpu_seconds", self.cpu_seconds);
    v("busy_share", self.busy_share);
    v("ns_per_frame", self.ns_per_frame);
  }
};

// A CPU queues may run on: its load over the last rebalancing round (none
// until a round has measured it): the share its worker took plus the
// kernel's softirq work on it.
struct CpuLoad {
  std::uint32_t cpu = 0;
  std::uint64_t queues = 0;
  std::optional<double> busy_share;
  std::optional<double> worker_share;
  std::optional<double> softirq_share;

  bool operator==(const CpuLoad&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("cpu", self.cpu);
    v("queues", self.queues);
    v("busy_share", self.busy_share);
    v("worker_share", self.worker_share);
    v("softirq_share", self.softirq_share);
  }
};

struct RebalancerStatus {
  bool enabled = false;
  double high = 0;
  double low = 0;
  std::uint64_t moves = 0;  // since vmqd started

  bool operator==(const RebalancerStatus&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("enabled", self.enabled);
    v("high", self.high);
    v("low", self.low);
    v("moves", self.moves);
  }
};

}  // namespace vmq::api
