// A loaded classifier with helpers to program its tables and to observe what
// one frame did: the verdict, the bytes it left, and the counters it moved.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "core/frame_builder.h"
#include "core/mac_address.h"
#include "os/classifier.h"
#include "support/privileges.h"
#include "support/xsk_placeholder.h"

namespace vmq::test {

inline MacAddress mac(const char* text) { return *MacAddress::parse(text); }

struct CounterSnapshot {
  os::DefaultTraffic by_reason{};
  std::map<std::uint32_t, vmq_traffic> queues;
  std::map<std::uint32_t, std::uint64_t> filter_hits;
};

struct Outcome {
  std::uint32_t action = 0;
  std::vector<std::uint8_t> frame;
  CounterSnapshot before;
  CounterSnapshot after;
};

class ClassifierFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  virtual os::ClassifierLimits limits() const { return {16, 64, 1, 3840}; }

  void add_queue(std::uint32_t queue_id, vmq_queue_state state, vmq_vlan_mode mode = VMQ_VLAN_MODE_TRUNK);
  // Puts a socket in the queue's slot for rx queue `rxq`.
  void attach_socket(std::uint32_t queue_id, std::uint32_t rxq = 0);
  void add_filter(const MacAddress& mac, std::uint16_t vlan, std::uint32_t queue_id, std::uint32_t filter_id);

  CounterSnapshot snapshot() const;
  Outcome run(const std::vector<std::uint8_t>& frame, std::uint32_t ifindex = 0, std::uint32_t rxq = 0);

  // The frame went to the default queue for `reason`, untouched, and only
  // that reason's counter moved (one packet, its bytes).
  void expect_default(const Outcome& o, const std::vector<std::uint8_t>& sent, vmq_default_reason reason);
  // The frame was redirected to `queue_id` through `filter_id`, leaving
  // `delivered`; only that queue's and that filter's counters moved.
  void expect_redirect(const Outcome& o, const std::vector<std::uint8_t>& delivered, std::uint32_t queue_id,
                       std::uint32_t filter_id);

  std::optional<os::Classifier> classifier_;
  std::vector<XskPlaceholder> sockets_;
  std::vector<std::uint32_t> queue_ids_;
  std::vector<std::uint32_t> filter_ids_;
};

}  // namespace vmq::test
