// The reference classifier against hand-worked cases of the spec: the oracle
// of the differential test must itself be right. Needs no kernel.
#include "reference_classifier.h"

#include <gtest/gtest.h>
#include <linux/bpf.h>

#include "core/frame_builder.h"

namespace vmq::test {
namespace {

const MacAddress kVm1(MacAddress::Bytes{0x52, 0x54, 0, 0, 0, 1});
const MacAddress kVm2(MacAddress::Bytes{0x52, 0x54, 0, 0, 0, 2});
const MacAddress kMulticast(MacAddress::Bytes{0x01, 0x00, 0x5e, 0, 0, 0xfb});

constexpr std::uint32_t kQueue = 3, kFilter = 7;

class ReferenceClassifier : public ::testing::Test {
 protected:
  ReferenceClassifier() {
    tables_.rxq_count = 2;
    tables_.max_frame_len = 1000;
    running_queue(kQueue, VMQ_VLAN_MODE_TRUNK);
  }

  void running_queue(std::uint32_t queue_id, vmq_vlan_mode mode) {
    tables_.queues[queue_id] = vmq_queue_entry{VMQ_QUEUE_RUNNING, static_cast<std::uint32_t>(mode), 1, 0};
    tables_.socket_slots.insert(queue_id * tables_.rxq_count);  // rx queue 0 only
  }
  void filter(const MacAddress& mac, std::uint16_t vlan, std::uint32_t queue_id = kQueue,
              std::uint32_t filter_id = kFilter) {
    tables_.filters[{mac, vlan}] = vmq_filter_value{queue_id, filter_id};
  }
  ReferenceVerdict classify(const std::vector<std::uint8_t>& frame, std::uint32_t rxq = 0) const {
    return reference_classify(frame, rxq, tables_);
  }

  static void expect_pass(const ReferenceVerdict& v, const std::vector<std::uint8_t>& sent,
                          vmq_default_reason reason) {
    EXPECT_EQ(v.action, XDP_PASS);
    EXPECT_EQ(v.reason, reason) << reason_name(v.reason);
    EXPECT_EQ(v.frame, sent);
  }
  static void expect_redirect(const ReferenceVerdict& v, const std::vector<std::uint8_t>& delivered,
                              std::uint32_t filter_id = kFilter) {
    EXPECT_EQ(v.action, XDP_REDIRECT) << describe_decision(v);
    EXPECT_EQ(v.queue_id, kQueue);
    EXPECT_EQ(v.filter_id, filter_id);
    EXPECT_EQ(v.frame, delivered);
  }

  ReferenceTables tables_;
};

std::vector<std::uint8_t> cut(std::vector<std::uint8_t> frame, std::size_t len) {
  frame.resize(len);
  return frame;
}

std::vector<std::uint8_t> without_outer_tag(std::vector<std::uint8_t> frame) {
  frame.erase(frame.begin() + 12, frame.begin() + 16);
  return frame;
}

TEST_F(ReferenceClassifier, FramesCutInsideAParsedHeaderAreMalformedBeforeAnythingElse) {
  filter(kVm1, 5);
  const auto single = FrameBuilder().dst(kVm1).tag(5).build();
  for (std::size_t len = 0; len < 18; ++len)
    expect_pass(classify(cut(single, len)), cut(single, len), VMQ_DEFAULT_MALFORMED);
  expect_redirect(classify(cut(single, 18)), cut(single, 18));

  const auto qinq = FrameBuilder().dst(kVm1).tag(5, kTpid8021AD).tag(9).build();
  for (std::size_t len = 18; len < 22; ++len)
    expect_pass(classify(cut(qinq, len)), cut(qinq, len), VMQ_DEFAULT_MALFORMED);
  expect_redirect(classify(cut(qinq, 22)), cut(qinq, 22));

  // Group addresses are malformed too when cut short: that rule comes first.
  const auto group = FrameBuilder().dst(kMulticast).build();
  expect_pass(classify(cut(group, 13)), cut(group, 13), VMQ_DEFAULT_MALFORMED);
}

TEST_F(ReferenceClassifier, AThirdTagIsNeverLookedAt) {
  filter(kVm1, 5);
  const auto three = FrameBuilder().dst(kVm1).tag(5).tag(6).tag(7).build();
  expect_redirect(classify(cut(three, 22)), cut(three, 22));
}

TEST_F(ReferenceClassifier, SecondTagIsOnlyParsedBehindAVlanEthertype) {
  filter(kVm1, 5);
  const auto ipv4_inside = FrameBuilder().dst(kVm1).tag(5).ethertype(kEthertypeIPv4).build();
  expect_redirect(classify(cut(ipv4_inside, 18)), cut(ipv4_inside, 18));
  const auto other_tpid = FrameBuilder().dst(kVm1).tag(5, 0x9100).build();
  expect_pass(classify(cut(other_tpid, 14)), cut(other_tpid, 14), VMQ_DEFAULT_NO_FILTER);
}

TEST_F(ReferenceClassifier, GroupAddressesGoToDefaultQueueEvenWithAFilter) {
  filter(kMulticast, VMQ_VLAN_UNTAGGED_OR_ZERO);
  const auto frame = FrameBuilder().dst(kMulticast).build();
  expect_pass(classify(frame), frame, VMQ_DEFAULT_BROADCAST_MULTICAST);
}

TEST_F(ReferenceClassifier, VlanZeroFilterMatchesUntaggedAndVidZeroOnly) {
  filter(kVm1, VMQ_VLAN_UNTAGGED_OR_ZERO);
  const auto untagged = FrameBuilder().dst(kVm1).build();
  const auto vid0 = FrameBuilder().dst(kVm1).tag(0, kTpid8021AD, 7).build();
  const auto vid5 = FrameBuilder().dst(kVm1).tag(5).build();
  expect_redirect(classify(untagged), untagged);
  expect_redirect(classify(vid0), vid0);
  expect_pass(classify(vid5), vid5, VMQ_DEFAULT_NO_FILTER);
}

TEST_F(ReferenceClassifier, VlanFilterMatchesItsVidWhateverThePriorityBits) {
  filter(kVm1, 4094);
  const auto vid = FrameBuilder().dst(kVm1).tag(4094, kTpid8021Q, 7).build();
  expect_redirect(classify(vid), vid);
  const auto untagged = FrameBuilder().dst(kVm1).build();
  expect_pass(classify(untagged), untagged, VMQ_DEFAULT_NO_FILTER);
  const auto other_mac = FrameBuilder().dst(kVm2).tag(4094).build();
  expect_pass(classify(other_mac), other_mac, VMQ_DEFAULT_NO_FILTER);
}

TEST_F(ReferenceClassifier, OnlyARunningQueueReceives) {
  filter(kVm1, 5);
  const auto frame = FrameBuilder().dst(kVm1).tag(5).build();
  tables_.queues[kQueue].state = VMQ_QUEUE_PAUSED;
  expect_pass(classify(frame), frame, VMQ_DEFAULT_QUEUE_NOT_RUNNING);
  tables_.queues.erase(kQueue);  // never written
  expect_pass(classify(frame), frame, VMQ_DEFAULT_QUEUE_NOT_RUNNING);
}

TEST_F(ReferenceClassifier, AccessModeStripsOnlyTheOuterTagAndCountsItOutOfTheLength) {
  running_queue(kQueue, VMQ_VLAN_MODE_ACCESS);
  filter(kVm1, 5);
  const auto qinq = FrameBuilder().dst(kVm1).tag(5, kTpid8021AD).tag(9).build();
  expect_redirect(classify(qinq), without_outer_tag(qinq));

  const auto fits_once_stripped = FrameBuilder().dst(kVm1).tag(5).min_size(1004).build();
  expect_redirect(classify(fits_once_stripped), without_outer_tag(fits_once_stripped));
  const auto too_long = FrameBuilder().dst(kVm1).tag(5).min_size(1005).build();
  expect_pass(classify(too_long), too_long, VMQ_DEFAULT_OVERSIZE);

  filter(kVm2, VMQ_VLAN_UNTAGGED_OR_ZERO);
  const auto untagged = FrameBuilder().dst(kVm2).min_size(1000).build();
  expect_redirect(classify(untagged), untagged);
  const auto untagged_too_long = FrameBuilder().dst(kVm2).min_size(1001).build();
  expect_pass(classify(untagged_too_long), untagged_too_long, VMQ_DEFAULT_OVERSIZE);
}

TEST_F(ReferenceClassifier, TrunkModeKeepsTheFrameAndItsFullLength) {
  filter(kVm1, 5);
  const auto at_limit = FrameBuilder().dst(kVm1).tag(5).min_size(1000).build();
  expect_redirect(classify(at_limit), at_limit);
  const auto over = FrameBuilder().dst(kVm1).tag(5).min_size(1001).build();
  expect_pass(classify(over), over, VMQ_DEFAULT_OVERSIZE);
}

TEST_F(ReferenceClassifier, RedirectNeedsASocketInTheSlotOfTheArrivalRxQueue) {
  filter(kVm1, 5);
  const auto frame = FrameBuilder().dst(kVm1).tag(5).build();
  expect_pass(classify(frame, 1), frame, VMQ_DEFAULT_EMPTY_SLOT);  // slot 7 is empty
  tables_.socket_slots.insert(kQueue * 2 + 1);
  expect_redirect(classify(frame, 1), frame);
  expect_pass(classify(frame, 2), frame, VMQ_DEFAULT_EMPTY_SLOT);  // beyond rxq_count
  tables_.socket_slots.erase(kQueue * 2);
  expect_pass(classify(frame, 0), frame, VMQ_DEFAULT_EMPTY_SLOT);
}

TEST_F(ReferenceClassifier, EmptySlotInAccessModeLeavesTheFrameUnchanged) {
  running_queue(kQueue, VMQ_VLAN_MODE_ACCESS);
  tables_.socket_slots.clear();
  filter(kVm1, 5);
  const auto frame = FrameBuilder().dst(kVm1).tag(5).build();
  expect_pass(classify(frame), frame, VMQ_DEFAULT_EMPTY_SLOT);
}

TEST_F(ReferenceClassifier, OversizeIsDecidedBeforeTheSlot) {
  tables_.socket_slots.clear();
  filter(kVm1, 5);
  const auto frame = FrameBuilder().dst(kVm1).tag(5).min_size(2000).build();
  expect_pass(classify(frame), frame, VMQ_DEFAULT_OVERSIZE);
}

}  // namespace
}  // namespace vmq::test
