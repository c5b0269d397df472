// The VMQ receive-filter rules of the XDP classifier, one case per rule, run
// through BPF_PROG_TEST_RUN: verdict, output bytes and the counters moved.
#include <gtest/gtest.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <unistd.h>

#include <set>
#include <string>

#include "support/classifier_fixture.h"

namespace vmq::test {
namespace {

const MacAddress kVm1 = mac("52:54:00:00:00:01");
const MacAddress kVm2 = mac("52:54:00:00:00:02");
const MacAddress kUnknown = mac("52:54:00:00:00:99");
const MacAddress kBroadcast = mac("ff:ff:ff:ff:ff:ff");
const MacAddress kMulticast = mac("01:00:5e:00:00:fb");

constexpr std::uint32_t kQ1 = 1, kQ2 = 2;
constexpr std::uint32_t kF1 = 1, kF2 = 2, kF3 = 3;

std::vector<std::uint8_t> untagged(const MacAddress& dst) { return FrameBuilder().dst(dst).build(); }

std::vector<std::uint8_t> tagged(const MacAddress& dst, std::uint16_t vid, std::uint16_t tpid = kTpid8021Q) {
  return FrameBuilder().dst(dst).tag(vid, tpid).build();
}

// The same frame with its outer tag removed (what access mode delivers).
std::vector<std::uint8_t> without_outer_tag(std::vector<std::uint8_t> frame) {
  frame.erase(frame.begin() + 12, frame.begin() + 16);
  return frame;
}

// Every rule holds for both builds of the program: single-buffer (standard
// MTU: the frame's length is data_end - data) and multi-buffer (jumbo MTU:
// the length comes from the kernel).
class ClassifierRules : public ClassifierFixture, public ::testing::WithParamInterface<bool> {
 protected:
  os::ClassifierLimits limits() const override { return {16, 64, 1, 3840, GetParam()}; }
};

INSTANTIATE_TEST_SUITE_P(Buffers, ClassifierRules, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "MultiBuffer" : "SingleBuffer";
                         });

// Whether a program calls bpf_xdp_get_buff_len(), read from the instructions
// libbpf handed to the kernel.
bool calls_get_buff_len(const bpf_program* program) {
  const bpf_insn* insns = bpf_program__insns(program);
  for (std::size_t i = 0; i < bpf_program__insn_cnt(program); ++i)
    if (insns[i].code == (BPF_JMP | BPF_CALL) && insns[i].src_reg == 0 && insns[i].imm == BPF_FUNC_xdp_get_buff_len)
      return true;
  return false;
}

// Frames longer than a page reach only a multi-buffer program.
class MultiBufferClassifier : public ClassifierFixture {};

// A single-buffer program measures the frame itself: a queue buffer made
// small here stands in for a frame longer than the buffer.
class SingleBufferClassifier : public ClassifierFixture {
 protected:
  os::ClassifierLimits limits() const override { return {16, 64, 1, 200, false}; }
};

TEST_P(ClassifierRules, UntaggedFrameMatchesUntaggedOrZeroFilter) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING);
  attach_socket(kQ1);
  add_filter(kVm1, VMQ_VLAN_UNTAGGED_OR_ZERO, kQ1, kF1);
  const auto frame = untagged(kVm1);
  expect_redirect(run(frame), frame, kQ1, kF1);
}

TEST_P(ClassifierRules, VidZeroFrameMatchesUntaggedOrZeroFilter) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING, VMQ_VLAN_MODE_TRUNK);
  attach_socket(kQ1);
  add_filter(kVm1, VMQ_VLAN_UNTAGGED_OR_ZERO, kQ1, kF1);
  const auto frame = tagged(kVm1, 0);
  expect_redirect(run(frame), frame, kQ1, kF1);
}

TEST_P(ClassifierRules, VidZeroFrameIsDeliveredUntaggedInAccessMode) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING, VMQ_VLAN_MODE_ACCESS);
  attach_socket(kQ1);
  add_filter(kVm1, VMQ_VLAN_UNTAGGED_OR_ZERO, kQ1, kF1);
  const auto frame = tagged(kVm1, 0);
  expect_redirect(run(frame), without_outer_tag(frame), kQ1, kF1);
}

TEST_P(ClassifierRules, UntaggedFrameIsUnchangedInAccessMode) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING, VMQ_VLAN_MODE_ACCESS);
  attach_socket(kQ1);
  add_filter(kVm1, VMQ_VLAN_UNTAGGED_OR_ZERO, kQ1, kF1);
  const auto frame = untagged(kVm1);
  expect_redirect(run(frame), frame, kQ1, kF1);
}

TEST_P(ClassifierRules, VidNFrameKeepsItsTagInTrunkMode) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING, VMQ_VLAN_MODE_TRUNK);
  attach_socket(kQ1);
  add_filter(kVm1, 5, kQ1, kF1);
  const auto frame = tagged(kVm1, 5);
  expect_redirect(run(frame), frame, kQ1, kF1);
}

TEST_P(ClassifierRules, VidNFrameLosesItsTagInAccessMode) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING, VMQ_VLAN_MODE_ACCESS);
  attach_socket(kQ1);
  add_filter(kVm1, 5, kQ1, kF1);
  const auto frame = FrameBuilder().dst(kVm1).tag(5, kTpid8021Q, 3).min_size(128).build();
  expect_redirect(run(frame), without_outer_tag(frame), kQ1, kF1);
}

TEST_P(ClassifierRules, VlanFilterNeverMatchesUntaggedOrVidZero) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING);
  attach_socket(kQ1);
  add_filter(kVm1, 5, kQ1, kF1);
  for (const auto& frame : {untagged(kVm1), tagged(kVm1, 0)}) expect_default(run(frame), frame, VMQ_DEFAULT_NO_FILTER);
}

TEST_P(ClassifierRules, UntaggedOrZeroFilterNeverMatchesVidN) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING);
  attach_socket(kQ1);
  add_filter(kVm1, VMQ_VLAN_UNTAGGED_OR_ZERO, kQ1, kF1);
  const auto frame = tagged(kVm1, 5);
  expect_default(run(frame), frame, VMQ_DEFAULT_NO_FILTER);
}

TEST_P(ClassifierRules, WrongVidGoesToDefaultQueue) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING);
  attach_socket(kQ1);
  add_filter(kVm1, 5, kQ1, kF1);
  for (std::uint16_t vid : {std::uint16_t{4}, std::uint16_t{6}, std::uint16_t{4094}, std::uint16_t{4095}}) {
    const auto frame = tagged(kVm1, vid);
    expect_default(run(frame), frame, VMQ_DEFAULT_NO_FILTER);
  }
}

TEST_P(ClassifierRules, SameMacOnTwoVlansGoesToTwoQueues) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING);
  add_queue(kQ2, VMQ_QUEUE_RUNNING);
  attach_socket(kQ1);
  attach_socket(kQ2);
  add_filter(kVm1, 100, kQ1, kF1);
  add_filter(kVm1, 200, kQ2, kF2);
  const auto f100 = tagged(kVm1, 100), f200 = tagged(kVm1, 200);
  expect_redirect(run(f100), f100, kQ1, kF1);
  expect_redirect(run(f200), f200, kQ2, kF2);
}

TEST_P(ClassifierRules, FiltersOfAQueueAreOred) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING);
  attach_socket(kQ1);
  add_filter(kVm1, 5, kQ1, kF1);
  add_filter(kVm2, VMQ_VLAN_UNTAGGED_OR_ZERO, kQ1, kF2);
  add_filter(kVm1, 6, kQ1, kF3);
  const auto a = tagged(kVm1, 5), b = untagged(kVm2), c = tagged(kVm1, 6);
  expect_redirect(run(a), a, kQ1, kF1);
  expect_redirect(run(b), b, kQ1, kF2);
  expect_redirect(run(c), c, kQ1, kF3);
}

TEST_P(ClassifierRules, QinQMatchesOnTheOuterTag) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING, VMQ_VLAN_MODE_TRUNK);
  attach_socket(kQ1);
  add_filter(kVm1, 100, kQ1, kF1);
  for (std::uint16_t outer_tpid : {kTpid8021AD, kTpid8021Q}) {
    const auto frame = FrameBuilder().dst(kVm1).tag(100, outer_tpid).tag(200).build();
    expect_redirect(run(frame), frame, kQ1, kF1);
    const auto inner_only = FrameBuilder().dst(kVm1).tag(200, outer_tpid).tag(100).build();
    expect_default(run(inner_only), inner_only, VMQ_DEFAULT_NO_FILTER);
  }
}

TEST_P(ClassifierRules, QinQInAccessModeStripsOnlyTheOuterTag) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING, VMQ_VLAN_MODE_ACCESS);
  attach_socket(kQ1);
  add_filter(kVm1, 100, kQ1, kF1);
  const auto frame = FrameBuilder().dst(kVm1).tag(100, kTpid8021AD).tag(200).build();
  const auto expected = without_outer_tag(frame);
  const std::vector<std::uint8_t> inner_tag{0x81, 0x00, 0x00, 200};
  ASSERT_TRUE(std::equal(inner_tag.begin(), inner_tag.end(), expected.begin() + 12));
  expect_redirect(run(frame), expected, kQ1, kF1);
}

TEST_P(ClassifierRules, BroadcastAndMulticastAlwaysGoToDefaultQueue) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING);
  attach_socket(kQ1);
  // Even a (wrongly) installed filter for a group address never matches.
  add_filter(kBroadcast, VMQ_VLAN_UNTAGGED_OR_ZERO, kQ1, kF1);
  add_filter(kMulticast, 5, kQ1, kF2);
  for (const auto& frame : {untagged(kBroadcast), tagged(kBroadcast, 5), untagged(kMulticast), tagged(kMulticast, 5)})
    expect_default(run(frame), frame, VMQ_DEFAULT_BROADCAST_MULTICAST);
}

TEST_P(ClassifierRules, UnknownMacGoesToDefaultQueue) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING);
  attach_socket(kQ1);
  add_filter(kVm1, VMQ_VLAN_UNTAGGED_OR_ZERO, kQ1, kF1);
  for (const auto& frame : {untagged(kUnknown), tagged(kUnknown, 5)}) expect_default(run(frame), frame, VMQ_DEFAULT_NO_FILTER);
}

TEST_P(ClassifierRules, TruncatedVlanHeadersAreMalformed) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING);
  attach_socket(kQ1);
  add_filter(kVm1, 5, kQ1, kF1);
  const auto single = tagged(kVm1, 5);
  for (std::size_t len = 14; len < 18; ++len) {  // cut inside the tag
    SCOPED_TRACE(len);
    const std::vector<std::uint8_t> cut(single.begin(), single.begin() + static_cast<long>(len));
    expect_default(run(cut), cut, VMQ_DEFAULT_MALFORMED);
  }
  const auto qinq = FrameBuilder().dst(kVm1).tag(5, kTpid8021AD).tag(7).build();
  for (std::size_t len = 18; len < 22; ++len) {  // cut inside the inner tag
    SCOPED_TRACE(len);
    const std::vector<std::uint8_t> cut(qinq.begin(), qinq.begin() + static_cast<long>(len));
    expect_default(run(cut), cut, VMQ_DEFAULT_MALFORMED);
  }
  // The shortest complete frames are not malformed.
  const std::vector<std::uint8_t> exact(single.begin(), single.begin() + 18);
  expect_redirect(run(exact), exact, kQ1, kF1);
}

// libbpf loads an xdp.frags program with BPF_F_XDP_HAS_FRAGS, an xdp one without.
TEST_F(MultiBufferClassifier, IsTheXdpFragsBuild) {
  EXPECT_STREQ(bpf_program__section_name(classifier_->program()), "xdp.frags");
  EXPECT_GE(bpf_program__fd(classifier_->program()), 0);
  EXPECT_TRUE(calls_get_buff_len(classifier_->program()));
}

TEST_F(MultiBufferClassifier, JumboFrameLongerThanAQueueBufferGoesToDefaultQueue) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING, VMQ_VLAN_MODE_ACCESS);
  attach_socket(kQ1);
  add_filter(kVm1, 5, kQ1, kF1);
  const auto jumbo = FrameBuilder().dst(kVm1).tag(5).min_size(9000).build();
  expect_default(run(jumbo), jumbo, VMQ_DEFAULT_OVERSIZE);
  // A frame that fits once its tag is stripped is delivered.
  const auto fits = FrameBuilder().dst(kVm1).tag(5).min_size(limits().max_frame_len + 4).build();
  expect_redirect(run(fits), without_outer_tag(fits), kQ1, kF1);
}

TEST_F(MultiBufferClassifier, JumboFrameWithoutFilterGoesToDefaultQueue) {
  const auto jumbo = FrameBuilder().dst(kUnknown).min_size(9000).build();
  expect_default(run(jumbo), jumbo, VMQ_DEFAULT_NO_FILTER);
}

TEST_F(SingleBufferClassifier, IsTheXdpBuild) {
  EXPECT_STREQ(bpf_program__section_name(classifier_->program()), "xdp");
  EXPECT_GE(bpf_program__fd(classifier_->program()), 0);
  EXPECT_FALSE(calls_get_buff_len(classifier_->program())) << "the single-buffer build asks for the length";
}

TEST_F(SingleBufferClassifier, FrameLongerThanAQueueBufferGoesToDefaultQueue) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING, VMQ_VLAN_MODE_ACCESS);
  attach_socket(kQ1);
  add_filter(kVm1, 5, kQ1, kF1);
  const auto longer = FrameBuilder().dst(kVm1).tag(5).min_size(limits().max_frame_len + 5).build();
  expect_default(run(longer), longer, VMQ_DEFAULT_OVERSIZE);
  const auto fits = FrameBuilder().dst(kVm1).tag(5).min_size(limits().max_frame_len + 4).build();
  expect_redirect(run(fits), without_outer_tag(fits), kQ1, kF1);
}

TEST_P(ClassifierRules, OnlyARunningQueueReceives) {
  for (auto state : {VMQ_QUEUE_UNDEFINED, VMQ_QUEUE_ALLOCATED, VMQ_QUEUE_SET, VMQ_QUEUE_PAUSED,
                     VMQ_QUEUE_DMA_STOPPED, VMQ_QUEUE_FREEING}) {
    SCOPED_TRACE(state);
    add_queue(kQ1, state);
    attach_socket(kQ1);
    add_filter(kVm1, 5, kQ1, kF1);
    const auto frame = tagged(kVm1, 5);
    expect_default(run(frame), frame, VMQ_DEFAULT_QUEUE_NOT_RUNNING);
  }
  add_queue(kQ1, VMQ_QUEUE_RUNNING);
  const auto frame = tagged(kVm1, 5);
  expect_redirect(run(frame), frame, kQ1, kF1);
}

TEST_P(ClassifierRules, FilterOfAQueueNeverWrittenIsNotRunning) {
  add_filter(kVm1, 5, kQ1, kF1);  // queue table entry still zero: UNDEFINED
  const auto frame = tagged(kVm1, 5);
  expect_default(run(frame), frame, VMQ_DEFAULT_QUEUE_NOT_RUNNING);
}

TEST_P(ClassifierRules, EmptySocketSlotFallsBackToDefaultQueue) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING, VMQ_VLAN_MODE_TRUNK);
  add_filter(kVm1, 5, kQ1, kF1);
  const auto frame = tagged(kVm1, 5);
  expect_default(run(frame), frame, VMQ_DEFAULT_EMPTY_SLOT);
}

TEST_P(ClassifierRules, EmptySlotInAccessModeRestoresTheTag) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING, VMQ_VLAN_MODE_ACCESS);
  add_filter(kVm1, 5, kQ1, kF1);
  const auto frame = FrameBuilder().dst(kVm1).tag(5, kTpid8021Q, 6).build();
  expect_default(run(frame), frame, VMQ_DEFAULT_EMPTY_SLOT);
}

TEST_P(ClassifierRules, SocketRemovedFallsBackToDefaultQueue) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING);
  attach_socket(kQ1);
  add_filter(kVm1, 5, kQ1, kF1);
  const auto frame = tagged(kVm1, 5);
  expect_redirect(run(frame), frame, kQ1, kF1);
  ASSERT_TRUE(classifier_->delete_socket(classifier_->socket_slot(kQ1, 0)));
  expect_default(run(frame), frame, VMQ_DEFAULT_EMPTY_SLOT);
}

TEST_P(ClassifierRules, DeletedFilterStopsMatching) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING);
  attach_socket(kQ1);
  add_filter(kVm1, 5, kQ1, kF1);
  vmq_filter_key key{{0x52, 0x54, 0, 0, 0, 1}, 5};
  ASSERT_TRUE(classifier_->delete_filter(key));
  const auto frame = tagged(kVm1, 5);
  expect_default(run(frame), frame, VMQ_DEFAULT_NO_FILTER);
}

// VMMQ: a queue of two sub-queues. Only sub-queue 1 has a socket, so a frame
// that takes sub-queue 0 shows as an empty slot: which one a flow takes is
// visible without a live redirect.
class SubQueueClassifier : public ClassifierFixture {
 protected:
  os::ClassifierLimits limits() const override { return {16, 64, 1, 3840, true, false, 2}; }

  void SetUp() override {
    ClassifierFixture::SetUp();
    if (!classifier_) return;
    put_queue(2);
    queue_ids_ = {kQ1, kQ2};  // the counters snapshot() reads
    auto& socket = sockets_.emplace_back();
    ASSERT_GE(socket.fd(), 0) << "socket(AF_XDP)";
    ASSERT_TRUE(classifier_->put_socket(classifier_->socket_slot(kQ1, 1, 0), socket.fd()));
    add_filter(kVm1, 0, kQ1, kF1);
  }
  void put_queue(std::uint32_t sub_queues) {
    ASSERT_TRUE(classifier_->put_queue(kQ1, {VMQ_QUEUE_RUNNING, VMQ_VLAN_MODE_TRUNK, sub_queues, 0}));
  }

  // A UDP/IPv4 frame of the flow 10.0.0.1:sport -> 10.0.0.2:dport.
  static std::vector<std::uint8_t> udp(std::uint16_t sport, std::uint16_t dport, std::uint16_t frag = 0) {
    std::vector<std::uint8_t> ip{0x45, 0, 0, 28, 0, 0, static_cast<std::uint8_t>(frag >> 8),
                                 static_cast<std::uint8_t>(frag), 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
                                 static_cast<std::uint8_t>(sport >> 8), static_cast<std::uint8_t>(sport),
                                 static_cast<std::uint8_t>(dport >> 8), static_cast<std::uint8_t>(dport), 0, 8, 0, 0};
    return FrameBuilder().dst(kVm1).payload(ip).build();
  }
  bool takes_sub_queue_1(const std::vector<std::uint8_t>& frame) { return run(frame).action == XDP_REDIRECT; }
};

TEST_F(SubQueueClassifier, EachFlowKeepsItsSubQueueAndFlowsSpreadOverBoth) {
  int on_one = 0;
  for (std::uint16_t port = 1000; port < 1064; ++port) {
    const bool first = takes_sub_queue_1(udp(port, 53));
    for (int again = 0; again < 3; ++again) EXPECT_EQ(takes_sub_queue_1(udp(port, 53)), first) << "flow " << port;
    on_one += first;
  }
  EXPECT_GT(on_one, 16) << "of 64 flows";
  EXPECT_LT(on_one, 48) << "of 64 flows";
}

TEST_F(SubQueueClassifier, FramesThatAreNotIpTakeSubQueueZero) {
  const auto arp = FrameBuilder().dst(kVm1).ethertype(0x0806).build();
  expect_default(run(arp), arp, VMQ_DEFAULT_EMPTY_SLOT);
}

TEST_F(SubQueueClassifier, AllFragmentsOfAPacketTakeOneSubQueue) {
  // Fragments hash without ports (later ones carry none), so the first and
  // the rest of a datagram stay together, whatever the ports in the first.
  std::set<bool> taken;
  for (std::uint16_t port = 1000; port < 1032; ++port) taken.insert(takes_sub_queue_1(udp(port, 53, 0x2000)));
  taken.insert(takes_sub_queue_1(udp(0, 0, 0x0010)));
  EXPECT_EQ(taken.size(), 1u);
}

TEST_F(SubQueueClassifier, AQueueOfOneSendsEveryFlowToSubQueueZero) {
  put_queue(1);
  for (std::uint16_t port = 1000; port < 1016; ++port) EXPECT_FALSE(takes_sub_queue_1(udp(port, 53)));
}

TEST_F(SubQueueClassifier, NeverMoreSubQueuesThanTheQueuesRows) {
  // An entry asking for 4 sub-queues on a classifier with 2 rows per queue.
  // Sub-queues 2 and 3 would be queue 2's rows, another VM's: the only
  // socket left is there, and no frame may reach it.
  ASSERT_TRUE(classifier_->delete_socket(classifier_->socket_slot(kQ1, 1, 0)));
  auto& socket = sockets_.emplace_back();
  ASSERT_TRUE(classifier_->put_socket(classifier_->socket_slot(kQ2, 0, 0), socket.fd()));
  ASSERT_TRUE(classifier_->put_socket(classifier_->socket_slot(kQ2, 1, 0), socket.fd()));
  put_queue(4);
  for (std::uint16_t port = 1000; port < 1064; ++port) {
    const auto frame = udp(port, 53);
    expect_default(run(frame), frame, VMQ_DEFAULT_EMPTY_SLOT);
  }
}

// With several rx queues, a queue owns one slot per rx queue.
class MultiQueueClassifier : public ClassifierFixture {
 protected:
  os::ClassifierLimits limits() const override { return {16, 64, 4, 3840}; }
};

TEST_F(MultiQueueClassifier, RedirectUsesTheSlotOfTheArrivalRxQueue) {
  EXPECT_EQ(classifier_->socket_slot(3, 0), 12u);
  EXPECT_EQ(classifier_->socket_slot(3, 2), 14u);
  add_queue(3, VMQ_QUEUE_RUNNING);
  add_filter(kVm1, 5, 3, kF1);
  attach_socket(3, 1);  // a socket for rx queue 1 only: rx queue 0 has none
  const auto frame = tagged(kVm1, 5);
  expect_default(run(frame), frame, VMQ_DEFAULT_EMPTY_SLOT);  // arrives on rx queue 0
  attach_socket(3, 0);
  expect_redirect(run(frame), frame, 3, kF1);
}

TEST_P(ClassifierRules, ShadowInstanceSharesTablesButNotCounters) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING);
  attach_socket(kQ1);
  add_filter(kVm1, 5, kQ1, kF1);
  auto shadow = os::Classifier::load_shadow(*classifier_);
  ASSERT_TRUE(shadow) << shadow.error().message;
  const auto frame = tagged(kVm1, 5);
  const auto before = snapshot();
  auto result = shadow->test_run(frame);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->action, XDP_REDIRECT);
  EXPECT_EQ(shadow->queue_traffic(kQ1)->packets, 1u);
  EXPECT_EQ(shadow->filter_hits(kF1).value(), 1u);
  const auto after = snapshot();
  EXPECT_EQ(after.queues.at(kQ1).packets, before.queues.at(kQ1).packets) << "live counters untouched";
}

// vmqctl trace: the shadow instance records each decision, with the filter
// the frame's key matched and its queue whatever happened next.
struct TraceCase {
  const char* name;
  std::vector<std::uint8_t> frame;
  std::uint32_t action;
  std::uint32_t reason;  // VMQ_DEFAULT_REASON_COUNT: redirected
  std::uint32_t queue_id;
  std::uint32_t filter_id;
};

TEST_P(ClassifierRules, TraceRecordsTheFilterOfAQueueThatIsNotRunning) {
  add_queue(kQ1, VMQ_QUEUE_PAUSED);
  attach_socket(kQ1);
  add_filter(kVm1, 5, kQ1, kF1);
  auto shadow = os::Classifier::load_shadow(*classifier_);
  ASSERT_TRUE(shadow) << shadow.error().message;
  auto traced = shadow->trace_run(tagged(kVm1, 5));
  ASSERT_TRUE(traced) << traced.error().message;
  EXPECT_EQ(traced->action, XDP_PASS);
  EXPECT_EQ(traced->record.reason, VMQ_DEFAULT_QUEUE_NOT_RUNNING);
  EXPECT_EQ(traced->record.queue_id, kQ1);
  EXPECT_EQ(traced->record.filter_id, kF1);
}

TEST_P(ClassifierRules, TraceRecordAgreesWithTheCountersTheRunMoved) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING);
  attach_socket(kQ1);
  add_filter(kVm1, 5, kQ1, kF1);
  add_queue(kQ2, VMQ_QUEUE_RUNNING);  // no socket
  add_filter(kVm2, VMQ_VLAN_UNTAGGED_OR_ZERO, kQ2, kF2);
  add_filter(kVm2, 7, 3, kF3);  // queue 3 never written
  auto shadow = os::Classifier::load_shadow(*classifier_);
  ASSERT_TRUE(shadow) << shadow.error().message;
  const TraceCase cases[] = {
      {"redirect", tagged(kVm1, 5), XDP_REDIRECT, VMQ_DEFAULT_REASON_COUNT, kQ1, kF1},
      {"no filter", tagged(kVm1, 6), XDP_PASS, VMQ_DEFAULT_NO_FILTER, 0, 0},
      {"broadcast", untagged(kBroadcast), XDP_PASS, VMQ_DEFAULT_BROADCAST_MULTICAST, 0, 0},
      {"empty slot", untagged(kVm2), XDP_PASS, VMQ_DEFAULT_EMPTY_SLOT, kQ2, kF2},
      {"queue never written", tagged(kVm2, 7), XDP_PASS, VMQ_DEFAULT_QUEUE_NOT_RUNNING, 3, kF3},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto hits_before = shadow->filter_hits(kF1).value_or(0);
    const auto by_reason_before = shadow->default_traffic();
    ASSERT_TRUE(by_reason_before);
    auto traced = shadow->trace_run(c.frame);
    ASSERT_TRUE(traced) << traced.error().message;
    EXPECT_EQ(traced->action, c.action);
    EXPECT_EQ(traced->record.reason, c.reason);
    EXPECT_EQ(traced->record.queue_id, c.queue_id);
    EXPECT_EQ(traced->record.filter_id, c.filter_id);
    // The counters tell the same story.
    const auto by_reason_after = shadow->default_traffic();
    ASSERT_TRUE(by_reason_after);
    for (std::uint32_t r = 0; r < VMQ_DEFAULT_REASON_COUNT; ++r)
      EXPECT_EQ((*by_reason_after)[r].packets - (*by_reason_before)[r].packets, r == c.reason ? 1u : 0u) << r;
    EXPECT_EQ(shadow->filter_hits(kF1).value_or(0) - hits_before, c.action == XDP_REDIRECT ? 1u : 0u);
  }
}

TEST_P(ClassifierRules, TheLiveBuildRefusesATraceRun) {
  add_queue(kQ1, VMQ_QUEUE_PAUSED);
  add_filter(kVm1, 5, kQ1, kF1);
  auto traced = classifier_->trace_run(tagged(kVm1, 5));
  ASSERT_FALSE(traced);
  EXPECT_EQ(traced.error().code, Errc::invalid_state);
}

// The names of the maps a loaded program uses, from the kernel.
std::set<std::string> maps_used_by(int program_fd) {
  bpf_prog_info info{};
  std::uint32_t len = sizeof info;
  EXPECT_EQ(bpf_obj_get_info_by_fd(program_fd, &info, &len), 0);
  std::vector<std::uint32_t> ids(info.nr_map_ids);
  info = {};
  info.nr_map_ids = static_cast<std::uint32_t>(ids.size());
  info.map_ids = reinterpret_cast<std::uintptr_t>(ids.data());
  len = sizeof info;
  EXPECT_EQ(bpf_obj_get_info_by_fd(program_fd, &info, &len), 0);
  std::set<std::string> names;
  for (std::uint32_t id : ids) {
    const int fd = bpf_map_get_fd_by_id(id);
    bpf_map_info map{};
    std::uint32_t map_len = sizeof map;
    if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &map, &map_len) == 0) names.insert(map.name);
    if (fd >= 0) close(fd);
  }
  return names;
}

// The live builds are compiled without the code that records decisions: the
// trace record costs the live program nothing.
TEST_P(ClassifierRules, OnlyTheTraceBuildTouchesTheTraceRecord) {
  auto shadow = os::Classifier::load_shadow(*classifier_);
  ASSERT_TRUE(shadow) << shadow.error().message;
  EXPECT_TRUE(shadow->limits().trace);
  EXPECT_EQ(shadow->limits().multi_buffer, GetParam());
  EXPECT_FALSE(maps_used_by(classifier_->program_fd()).contains("vmq_decision"));
  EXPECT_TRUE(maps_used_by(shadow->program_fd()).contains("vmq_decision"));
}

TEST_F(SingleBufferClassifier, TraceRecordsTheFilterOfAFrameTooLongForItsQueue) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING);
  attach_socket(kQ1);
  add_filter(kVm1, 5, kQ1, kF1);
  auto shadow = os::Classifier::load_shadow(*classifier_);
  ASSERT_TRUE(shadow) << shadow.error().message;
  auto traced = shadow->trace_run(FrameBuilder().dst(kVm1).tag(5).min_size(limits().max_frame_len + 5).build());
  ASSERT_TRUE(traced) << traced.error().message;
  EXPECT_EQ(traced->record.reason, VMQ_DEFAULT_OVERSIZE);
  EXPECT_EQ(traced->record.queue_id, kQ1);
  EXPECT_EQ(traced->record.filter_id, kF1);
}

TEST_P(ClassifierRules, ResetCountersZeroesAReusedId) {
  add_queue(kQ1, VMQ_QUEUE_RUNNING);
  attach_socket(kQ1);
  add_filter(kVm1, 5, kQ1, kF1);
  const auto frame = tagged(kVm1, 5);
  run(frame);
  ASSERT_EQ(classifier_->queue_traffic(kQ1)->packets, 1u);
  ASSERT_TRUE(classifier_->reset_queue_traffic(kQ1));
  ASSERT_TRUE(classifier_->reset_filter_hits(kF1));
  EXPECT_EQ(classifier_->queue_traffic(kQ1)->packets, 0u);
  EXPECT_EQ(classifier_->filter_hits(kF1).value(), 0u);
}

}  // namespace
}  // namespace vmq::test
