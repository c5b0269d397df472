// One filled-in value of each type of the control protocol (agent/api), for
// the round-trip and decoding tests: every optional member set, so that
// every field is on the wire.
#pragma once

#include "api/methods.h"
#include "base/default_reasons.h"

namespace vmq::test {

inline MacAddress mac(const char* text) { return MacAddress::parse(text).value(); }

inline api::FilterRule tagged_rule() { return {mac("52:54:00:aa:bb:cc"), api::FilterVlan{100}}; }
inline api::FilterRule untagged_rule() { return {mac("52:54:00:aa:bb:dd"), std::nullopt}; }

inline api::QueueSettings sample_settings() {
  return {"web1", "vm-web1", "eth0", "vnet3", 512, VlanMode::access, true};
}

inline api::Counters sample_counters() {
  api::Counters c;
  c.classified = {11, 1100};
  c.received = 10;
  c.delivered = {9, 900};
  c.checksum_completed = 2;
  c.dropped = {1, 3, 4};
  c.port_errors = 5;
  c.in_flight = 6;
  c.xsk = {7, 8, 9, 10, 12};
  c.leg = api::LegCounters{13, 14, 15};
  return c;
}

inline api::Filter sample_filter() {
  return {7, {3, "web1"}, tagged_rule(), 12345, std::nullopt};
}

inline api::Queue sample_queue() {
  api::Queue q;
  q.id = 3;
  q.settings = sample_settings();
  q.cpu = 2;
  q.state = "paused";
  q.ndis_state = "running";
  q.last_error = "port vnet3 vanished";
  q.filters.push_back(sample_filter());
  api::Filter unread;  // hits that could not be read: null, with the reason beside them
  unread.id = 8;
  unread.queue = {3, "web1"};
  unread.rule = untagged_rule();
  unread.hits_error = "filter_hits failed";
  q.filters.push_back(unread);
  q.counters = sample_counters();
  q.worker = api::QueueWorker{4242, 2};
  q.cpu_mode = "auto";
  q.last_move = api::QueueMove{0, 2, "rebalancer", "spread: CPU 0 was 91% busy", 1764733494000};
  return q;
}

inline api::Uplink sample_uplink() {
  return {"eth0", 4, "native", "bpf-link", 42, true, "another program replaced vmq's", 3840, 1500, "single-buffer"};
}

inline api::DefaultQueueTraffic sample_default_queue() {
  api::DefaultQueueTraffic d;
  std::uint64_t n = 1;
  for (std::string_view reason : kDefaultReasonNames) {
    d.by_reason.push_back({std::string(reason), {n, n * 100}});
    ++n;
  }
  d.total = {21, 2100};
  return d;
}

inline api::MigrationDocument sample_document() {
  api::MigrationDocument d;
  d.source_host = "kvm-a";
  d.drained_at = "2026-11-24T03:44:54Z";
  d.queue = {sample_settings(), {2, false}, {tagged_rule(), untagged_rule()}};
  d.counters_at_drain = sample_counters();
  d.drain = {12, 240};
  return d;
}

// Parameters and replies of every method.
template <typename T>
T sample();

template <>
inline api::NoParams sample() { return {}; }
template <>
inline api::QueueSelector sample() { return {"web1"}; }
template <>
inline api::CapsParams sample() { return {"eth0"}; }
template <>
inline api::QueueAddParams sample() {
  return {"web1", "eth0", "vnet3", "vm-web1", 2, 512, VlanMode::access, {tagged_rule(), untagged_rule()}};
}
template <>
inline api::QueueSetParams sample() { return {"web1", 1, "web2", "", true}; }
template <>
inline api::FilterAddParams sample() { return {"web1", tagged_rule()}; }
template <>
inline api::FilterListParams sample() { return {"web1"}; }
template <>
inline api::FilterDelParams sample() { return {7}; }
template <>
inline api::StatsParams sample() { return {"web1"}; }
template <>
inline api::TraceParams sample() { return {"eth0", mac("52:54:00:aa:bb:cc"), mac("02:00:00:00:00:09"), 100, 200, 3}; }
template <>
inline api::MigrateRestoreParams sample() {
  return {api::to_json(sample_document()), "eth1", "vnet9", api::RestoreCpu{3}};
}

template <>
inline api::StatusReply sample() {
  return {"1.2.3", 1, 4711, "kvm-a", 93784, 2, 3, 64, 1024, {sample_uplink()},
          {{0, 3, 0.82, 0.7, 0.12}, {1, 0, std::nullopt, std::nullopt, std::nullopt}}, {true, 0.75, 0.25, 4}};
}
template <>
inline api::CapsReply sample() {
  return {64,           1024, {"destination_mac", "vlan_id"}, {"equal"}, {"access", "trunk"}, {64, 4096, 512},
          {0, 1, 2, 5}, {sample_uplink()}};
}
template <>
inline api::Queue sample() { return sample_queue(); }
template <>
inline api::QueueListReply sample() {
  api::Queue listed = sample_queue();
  listed.worker.reset();
  return {{listed}};
}
template <>
inline api::QueueDelReply sample() { return {3, "web1", 12, 240}; }
template <>
inline api::Filter sample() { return sample_filter(); }
template <>
inline api::FilterListReply sample() { return {{sample_filter()}}; }
template <>
inline api::StatsReply sample() {
  return {1764560000000,
          5000,
          {{"eth0", sample_default_queue(), {4096, 4000, 90, 6, 0, 3990}, {2, 1}}},
          {{2, 4242, 1, 100, 0.5, 0.25, 830.0}},
          {sample_queue()}};
}
template <>
inline api::TraceReply sample() {
  return {"eth0", 3, {mac("52:54:00:aa:bb:cc"), 100, std::nullopt, 64}, 60, api::TraceDestination::queue,
          api::QueueRef{3, "web1"}, api::FilterRef{7}, std::nullopt, true, "delivered to queue web1 (id 3)"};
}
template <>
inline api::MigrateDrainReply sample() { return {sample_document(), 12, 240, 1}; }
template <>
inline api::MigrateRestoreReply sample() {
  return {sample_queue(), false, api::CpuChoice::automatic, 310, "kvm-a"};
}

}  // namespace vmq::test
