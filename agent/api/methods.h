// Every method of the control protocol: its name, its parameters and its
// reply, defined once for vmqd, vmqctl, the libvirt hook and the tests.
// Parameters a method does not list are refused; `omittable` ones may be
// left out (or null). docs/json.md describes the replies.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "api/codec.h"
#include "api/records.h"
#include "api/views.h"
#include "base/filter_rules.h"

namespace vmq::api {

// Methods without parameters.
struct NoParams {
  template <typename V, typename Self>
  static void fields(V&, Self&) {}
};

// A queue by name or by id ("web1", "3").
struct QueueSelector {
  std::string queue;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("queue", self.queue);
  }
};

struct CapsParams {
  std::optional<std::string> uplink;  // only this uplink

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v.omittable("uplink", self.uplink);
  }
};

inline constexpr std::uint64_t kCpuMax = 4095;
inline constexpr std::uint64_t kRxQueueMax = 1023;

struct QueueAddParams {
  std::string name;
  std::string uplink;
  std::string port;
  std::optional<std::string> vm;
  std::optional<std::uint32_t> cpu;     // none: vmqd picks the least loaded CPU
  std::optional<std::uint32_t> frames;  // a hint; none: the configured default
  std::optional<VlanMode> vlan_mode;    // none: trunk
  std::vector<FilterRule> filters;
  // VMMQ: that many sub-queues on the least loaded CPUs, or one on each CPU
  // listed; neither with `cpu`.
  std::optional<std::uint32_t> sub_queues{};
  std::optional<std::vector<std::uint32_t>> sub_queue_cpus{};
  // What `port` names: a netdev (none: netdev) or a vhost-user socket's path.
  std::optional<PortKind> port_kind{};

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("name", self.name);
    v("uplink", self.uplink);
    v("port", self.port);
    v.omittable("port_kind", self.port_kind);
    v.omittable("vm", self.vm);
    v.omittable("cpu", self.cpu, Limit{kCpuMax});
    v.omittable("sub_queues", self.sub_queues);
    v.omittable("sub_queue_cpus", self.sub_queue_cpus);
    v.omittable("frames", self.frames);
    v.omittable("vlan_mode", self.vlan_mode);
    v.omittable("filters", self.filters, Inside{"queue " + self.name});
  }
};

// Nothing to change is refused by vmqd.
struct QueueSetParams {
  std::string queue;
  std::optional<std::uint32_t> cpu;
  std::optional<std::string> name;
  std::optional<std::string> vm;  // "" for none
  std::optional<bool> auto_cpu;   // true: the rebalancer may move the queue again (it stays where it is)

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("queue", self.queue);
    v.omittable("cpu", self.cpu, Limit{kCpuMax});
    v.omittable("auto_cpu", self.auto_cpu);
    v.omittable("name", self.name);
    v.omittable("vm", self.vm);
  }
};

// {"queue": ..., "mac": ..., "vlan": ...}
struct FilterAddParams {
  std::string queue;
  FilterRule rule;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("queue", self.queue);
    v.about("queue " + self.queue);
    FilterRule::fields(v, self.rule);
  }
};

struct FilterListParams {
  std::optional<std::string> queue;  // none: every queue's filters

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v.omittable("queue", self.queue);
  }
};

struct FilterDelParams {
  std::uint32_t filter = 0;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("filter", self.filter);
  }
};

struct StatsParams {
  std::optional<std::string> queue;  // none: every queue, and the uplinks and workers

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v.omittable("queue", self.queue);
  }
};

// A frame to run through an uplink's classifier: two tags make it QinQ.
struct TraceParams {
  std::string uplink;
  MacAddress dst;
  std::optional<MacAddress> src;
  std::optional<std::uint16_t> vlan;   // outer tag, 0 (a priority tag) to 4095
  std::optional<std::uint16_t> vlan2;  // inner tag
  std::optional<std::uint16_t> rx_queue;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("uplink", self.uplink);
    v("dst", self.dst);
    v.omittable("src", self.src);
    v.omittable("vlan", self.vlan, Limit{kFrameVlanMax});
    v.omittable("vlan2", self.vlan2, Limit{kFrameVlanMax});
    v.omittable("rx_queue", self.rx_queue, Limit{kRxQueueMax});
  }
};

// migrate.restore's "cpu": a CPU number, or "auto" for the least loaded.
struct RestoreCpu {
  std::optional<std::uint32_t> number;  // none: auto

  bool operator==(const RestoreCpu&) const = default;
};

template <>
struct Codec<RestoreCpu> {
  static json encode(const RestoreCpu& cpu);
  static std::expected<RestoreCpu, ValueProblem> decode(const json& j);
};

struct MigrateRestoreParams {
  // The document as the source wrote it, checksum included: passed on
  // unchanged, vmqd checks its seal before it reads it.
  json document;
  std::optional<std::string> uplink;  // none: the source's
  std::optional<std::string> port;    // none: the source's
  std::optional<RestoreCpu> cpu;      // none: the source's CPU if usable here, else auto

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("document", self.document);
    v.omittable("uplink", self.uplink);
    v.omittable("port", self.port);
    v.omittable("cpu", self.cpu);
  }
};

// ---- replies -----------------------------------------------------------------

struct StatusReply {
  std::string version;
  std::uint32_t protocol = 0;
  std::uint32_t pid = 0;
  std::string host_id;
  std::uint64_t uptime_seconds = 0;
  std::uint64_t queues = 0;
  std::uint64_t filters = 0;
  std::uint64_t max_queues = 0;
  std::uint64_t max_filters = 0;
  std::vector<Uplink> uplinks;
  std::vector<CpuLoad> cpus;
  RebalancerStatus rebalancer;

  bool operator==(const StatusReply&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("version", self.version);
    v("protocol", self.protocol);
    v("pid", self.pid);
    v("host_id", self.host_id);
    v("uptime_seconds", self.uptime_seconds);
    v("queues", self.queues);
    v("filters", self.filters);
    v("max_queues", self.max_queues);
    v("max_filters", self.max_filters);
    v("uplinks", self.uplinks);
    v("cpus", self.cpus);
    v("rebalancer", self.rebalancer);
  }
};

struct FrameLimits {
  std::uint32_t min = 0;
  std::uint32_t max = 0;
  std::uint32_t fallback = 0;  // "default": what a queue gets without a hint

  bool operator==(const FrameLimits&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("min", self.min);
    v("max", self.max);
    v("default", self.fallback);
  }
};

struct CapsReply {
  std::uint64_t max_queues = 0;
  std::uint64_t max_filters = 0;
  std::vector<std::string> filter_fields;
  std::vector<std::string> filter_tests;
  std::vector<std::string> vlan_modes;
  FrameLimits frames;
  std::vector<std::uint32_t> cpus;
  std::vector<Uplink> uplinks;

  bool operator==(const CapsReply&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("max_queues", self.max_queues);
    v("max_filters", self.max_filters);
    v("filter_fields", self.filter_fields);
    v("filter_tests", self.filter_tests);
    v("vlan_modes", self.vlan_modes);
    v("frames", self.frames);
    v("cpus", self.cpus);
    v("uplinks", self.uplinks);
  }
};

struct QueueListReply {
  std::vector<Queue> queues;  // without `worker`

  bool operator==(const QueueListReply&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("queues", self.queues);
  }
};

struct QueueDelReply {
  std::uint32_t id = 0;
  std::string name;
  std::uint64_t drained_frames = 0;
  std::uint64_t drain_us = 0;

  bool operator==(const QueueDelReply&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("id", self.id);
    v("name", self.name);
    v("drained_frames", self.drained_frames);
    v("drain_us", self.drain_us);
  }
};

struct FilterListReply {
  std::vector<Filter> filters;

  bool operator==(const FilterListReply&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("filters", self.filters);
  }
};

struct StatsReply {
  std::uint64_t timestamp_ms = 0;  // wall-clock time
  std::uint64_t uptime_ms = 0;     // monotonic: for rates
  std::vector<UplinkStats> uplinks;
  std::vector<Worker> workers;
  std::vector<Queue> queues;

  bool operator==(const StatsReply&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("timestamp_ms", self.timestamp_ms);
    v("uptime_ms", self.uptime_ms);
    v("uplinks", self.uplinks);
    v("workers", self.workers);
    v("queues", self.queues);
  }
};

struct TracedFrame {
  MacAddress dst;
  std::optional<std::uint16_t> vlan;   // none: untagged
  std::optional<std::uint16_t> vlan2;  // none: one tag at most
  std::uint64_t length = 0;

  bool operator==(const TracedFrame&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("dst", self.dst);
    v("vlan", self.vlan);
    v("vlan2", self.vlan2);
    v("length", self.length);
  }
};

enum class TraceDestination { queue, default_queue };

template <>
struct Codec<TraceDestination> {
  static json encode(TraceDestination destination);
  static std::expected<TraceDestination, ValueProblem> decode(const json& j);
};

// Where the classifier would send the frame, and why. `queue` is the queue
// it reaches, or whose filter matched when that queue is not running;
// `filter` the filter its key matches; `reason` (a default queue reason) and
// `tag_removed` are for one destination each.
struct TraceReply {
  std::string uplink;
  std::uint32_t rx_queue = 0;
  TracedFrame frame;
  std::uint64_t output_length = 0;
  TraceDestination destination = TraceDestination::default_queue;
  std::optional<QueueRef> queue;
  std::optional<FilterRef> filter;
  std::optional<std::string> reason;
  std::optional<bool> tag_removed;
  std::string explanation;

  bool operator==(const TraceReply&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("uplink", self.uplink);
    v("rx_queue", self.rx_queue);
    v("frame", self.frame);
    v("output_length", self.output_length);
    v("destination", self.destination);
    v.omittable("queue", self.queue);
    v.omittable("filter", self.filter);
    v.omittable("reason", self.reason);
    v.omittable("tag_removed", self.tag_removed);
    v("explanation", self.explanation);
  }
};

struct MigrateDrainReply {
  MigrationDocument document;
  std::uint64_t drained_frames = 0;
  std::uint64_t drain_us = 0;
  std::uint64_t dma_stopped_indications = 0;

  bool operator==(const MigrateDrainReply&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("document", self.document);
    v("drained_frames", self.drained_frames);
    v("drain_us", self.drain_us);
    v("dma_stopped_indications", self.dma_stopped_indications);
  }
};

// Where a restored queue's CPU came from.
enum class CpuChoice { document, given, automatic };

template <>
struct Codec<CpuChoice> {
  static json encode(CpuChoice choice);
  static std::expected<CpuChoice, ValueProblem> decode(const json& j);
};

// A queue restored before is answered with already_restored and without
// cpu_choice and source_host.
struct MigrateRestoreReply {
  Queue queue;
  bool already_restored = false;
  std::optional<CpuChoice> cpu_choice;
  std::uint64_t restore_us = 0;
  std::optional<std::string> source_host;

  bool operator==(const MigrateRestoreReply&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("queue", self.queue);
    v("already_restored", self.already_restored);
    v.omittable("cpu_choice", self.cpu_choice);
    v("restore_us", self.restore_us);
    v.omittable("source_host", self.source_host);
  }
};

// ---- the methods -------------------------------------------------------------

template <typename P, typename R>
struct Signature {
  using Params = P;
  using Reply = R;
};

struct Status : Signature<NoParams, StatusReply> {
  static constexpr std::string_view name = "status";
};
struct Caps : Signature<CapsParams, CapsReply> {
  static constexpr std::string_view name = "caps";
};
struct QueueAdd : Signature<QueueAddParams, Queue> {
  static constexpr std::string_view name = "queue.add";
};
struct QueueList : Signature<NoParams, QueueListReply> {
  static constexpr std::string_view name = "queue.list";
};
struct QueueShow : Signature<QueueSelector, Queue> {
  static constexpr std::string_view name = "queue.show";
};
struct QueueSet : Signature<QueueSetParams, Queue> {
  static constexpr std::string_view name = "queue.set";
};
struct QueuePause : Signature<QueueSelector, Queue> {
  static constexpr std::string_view name = "queue.pause";
};
struct QueueResume : Signature<QueueSelector, Queue> {
  static constexpr std::string_view name = "queue.resume";
};
struct QueueDel : Signature<QueueSelector, QueueDelReply> {
  static constexpr std::string_view name = "queue.del";
};
struct FilterAdd : Signature<FilterAddParams, Filter> {
  static constexpr std::string_view name = "filter.add";
};
struct FilterList : Signature<FilterListParams, FilterListReply> {
  static constexpr std::string_view name = "filter.list";
};
struct FilterDel : Signature<FilterDelParams, Filter> {
  static constexpr std::string_view name = "filter.del";
};
struct Stats : Signature<StatsParams, StatsReply> {
  static constexpr std::string_view name = "stats";
};
struct Trace : Signature<TraceParams, TraceReply> {
  static constexpr std::string_view name = "trace";
};
struct MigrateDrain : Signature<QueueSelector, MigrateDrainReply> {
  static constexpr std::string_view name = "migrate.drain";
};
struct MigrateRestore : Signature<MigrateRestoreParams, MigrateRestoreReply> {
  static constexpr std::string_view name = "migrate.restore";
};

// Every method, for the server's table and for the tests that go through all.
using Methods = std::tuple<Status, Caps, QueueAdd, QueueList, QueueShow, QueueSet, QueuePause, QueueResume, QueueDel,
                           FilterAdd, FilterList, FilterDel, Stats, Trace, MigrateDrain, MigrateRestore>;

}  // namespace vmq::api
