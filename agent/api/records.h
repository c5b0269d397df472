// The records vmqd writes down and reads back: a queue's settings and its
// filters, the same in the control protocol's replies, the state file and
// the migration document, and a queue's counters.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/codec.h"
#include "base/filter_rules.h"
#include "base/mac_address.h"
#include "base/vlan_mode.h"

namespace vmq::api {

// A filter's VLAN id, 1..4094. A type of its own so that a value out of
// range is refused naming the number as written, whatever its size.
struct FilterVlan {
  std::uint16_t id = 0;
  bool operator==(const FilterVlan&) const = default;
};

template <>
struct Codec<FilterVlan> {
  static json encode(FilterVlan vlan) { return vlan.id; }
  static std::expected<FilterVlan, ValueProblem> decode(const json& j);
};

// What a filter matches: {"mac": "52:54:00:aa:bb:cc", "vlan": 100}; "vlan"
// null (or absent) matches untagged and priority-tagged frames.
struct FilterRule {
  MacAddress mac;
  std::optional<FilterVlan> vlan;

  bool operator==(const FilterRule&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("mac", self.mac, check_filter_mac);
    v.null_or_absent("vlan", self.vlan);
  }
};

// What an operator chose for a queue and what vmqd made of it.
struct QueueSettings {
  std::string name;
  std::string vm;
  std::string uplink;
  std::string port;
  std::uint32_t frames = 0;
  VlanMode vlan_mode = VlanMode::trunk;
  bool paused_by_operator = false;
  PortKind port_kind = PortKind::netdev;  // absent (files before vhost-user): netdev

  bool operator==(const QueueSettings&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("name", self.name);
    v("vm", self.vm);
    v("uplink", self.uplink);
    v("port", self.port);
    v("frames", self.frames);
    v("vlan_mode", self.vlan_mode);
    v("paused_by_operator", self.paused_by_operator);
    v.omittable("port_kind", self.port_kind);
  }
};

struct Traffic {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;

  bool operator==(const Traffic&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("packets", self.packets);
    v("bytes", self.bytes);
  }
};

struct Drops {
  std::uint64_t port_full = 0;
  std::uint64_t quota = 0;
  std::uint64_t port_refused = 0;

  bool operator==(const Drops&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("port_full", self.port_full);
    v("quota", self.quota);
    v("port_refused", self.port_refused);
  }
};

// The kernel's XDP_STATISTICS of a queue's sockets.
struct XskCounters {
  std::uint64_t rx_dropped = 0;
  std::uint64_t rx_ring_full = 0;
  std::uint64_t rx_fill_ring_empty = 0;
  std::uint64_t rx_invalid_descs = 0;
  std::uint64_t tx_invalid_descs = 0;

  bool operator==(const XskCounters&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("rx_dropped", self.rx_dropped);
    v("rx_ring_full", self.rx_ring_full);
    v("rx_fill_ring_empty", self.rx_fill_ring_empty);
    v("rx_invalid_descs", self.rx_invalid_descs);
    v("tx_invalid_descs", self.tx_invalid_descs);
  }
};

// A vhost-user port's leg in the bridge (docs/vhost-user.md).
struct LegCounters {
  std::uint64_t to_guest = 0;
  std::uint64_t to_guest_refused = 0;
  std::uint64_t from_guest = 0;

  bool operator==(const LegCounters&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("to_guest", self.to_guest);
    v("to_guest_refused", self.to_guest_refused);
    v("from_guest", self.from_guest);
  }
};

// A queue's counters (docs/json.md, "Counters").
struct Counters {
  Traffic classified;
  std::uint64_t received = 0;
  Traffic delivered;
  std::uint64_t checksum_completed = 0;
  Drops dropped;
  std::uint64_t port_errors = 0;
  std::uint64_t in_flight = 0;
  XskCounters xsk;
  std::optional<LegCounters> leg{};  // a vhost-user port with a leg only

  bool operator==(const Counters&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("classified", self.classified);
    v("received", self.received);
    v("delivered", self.delivered);
    v("checksum_completed", self.checksum_completed);
    v("dropped", self.dropped);
    v("port_errors", self.port_errors);
    v("in_flight", self.in_flight);
    v("xsk", self.xsk);
    v.omittable("leg", self.leg);
  }
};

// What the kernel dropped before the worker saw it, and what the worker gave back unsent.
std::uint64_t dropped_total(const Counters& counters);

// ---- the state file's records ----------------------------------------------

struct StoredFilter {
  std::uint32_t id = 0;
  FilterRule rule;

  bool operator==(const StoredFilter&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("id", self.id);
    FilterRule::fields(v, self.rule);
  }
};

struct StoredQueue {
  std::uint32_t id = 0;
  std::uint32_t cpu = 0;
  std::optional<bool> cpu_pinned;  // absent (files before the rebalancer): pinned
  QueueSettings settings;
  std::vector<StoredFilter> filters;  // in the order they were set
  std::optional<std::vector<std::uint32_t>> sub_queue_cpus{};  // VMMQ: each sub-queue's CPU; absent or empty: one sub-queue

  bool operator==(const StoredQueue&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("id", self.id);
    v("cpu", self.cpu);
    v.omittable("cpu_pinned", self.cpu_pinned);
    v.omittable("sub_queue_cpus", self.sub_queue_cpus);
    QueueSettings::fields(v, self.settings);
    v("filters", self.filters);
  }
};

// ---- the migration document --------------------------------------------------

inline constexpr std::string_view kMigrationFormat = "vmq-migration";
inline constexpr int kMigrationFormatVersion = 1;

struct CpuPolicy {
  std::uint32_t cpu = 0;
  std::optional<bool> pinned;  // absent (documents before the rebalancer): pinned
  // VMMQ: the queue's sub-queue count; absent: one. The destination places
  // them on its own CPUs.
  std::optional<std::uint32_t> sub_queues{};

  bool operator==(const CpuPolicy&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("cpu", self.cpu);
    v.omittable("pinned", self.pinned);
    v.omittable("sub_queues", self.sub_queues);
  }
};

struct MigratedQueue {
  QueueSettings settings;
  CpuPolicy cpu_policy;
  std::vector<FilterRule> filters;

  bool operator==(const MigratedQueue&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    QueueSettings::fields(v, self.settings);
    v("cpu_policy", self.cpu_policy);
    v("filters", self.filters);
  }
};

struct DrainTotals {
  std::uint64_t frames = 0;
  std::uint64_t microseconds = 0;

  bool operator==(const DrainTotals&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("frames", self.frames);
    v("microseconds", self.microseconds);
  }
};

// What `migrate drain` gives and `migrate restore` takes (docs/json.md).
// `checksum` is the CRC-32 of the rest of the encoded document: vmqd seals
// the document when it writes it and checks the seal before it reads one
// (service/migration.h); here it is just a string.
struct MigrationDocument {
  std::string format{kMigrationFormat};
  std::uint32_t version = kMigrationFormatVersion;
  std::string source_host;
  std::string drained_at;  // UTC, ISO 8601
  MigratedQueue queue;
  Counters counters_at_drain;
  DrainTotals drain;
  std::string checksum;  // "crc32:557faad2"

  bool operator==(const MigrationDocument&) const = default;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("format", self.format);
    v("version", self.version);
    v("source_host", self.source_host);
    v("drained_at", self.drained_at);
    v("queue", self.queue);
    v("counters_at_drain", self.counters_at_drain);
    v("drain", self.drain);
    v("checksum", self.checksum);
  }
};

}  // namespace vmq::api
