#include "support/classifier_fixture.h"

#include <linux/bpf.h>

namespace vmq::test {

void ClassifierFixture::SetUp() {
  VMQ_REQUIRE_BPF();
  auto loaded = os::Classifier::load(limits());
  ASSERT_TRUE(loaded) << loaded.error().message;
  classifier_.emplace(std::move(*loaded));
}

void ClassifierFixture::add_queue(std::uint32_t queue_id, vmq_queue_state state, vmq_vlan_mode mode) {
  vmq_queue_entry entry{static_cast<std::uint32_t>(state), static_cast<std::uint32_t>(mode), 1, 0};
  auto ok = classifier_->put_queue(queue_id, entry);
  ASSERT_TRUE(ok) << ok.error().message;
  queue_ids_.push_back(queue_id);
}

void ClassifierFixture::attach_socket(std::uint32_t queue_id, std::uint32_t rxq) {
  auto& socket = sockets_.emplace_back();
  ASSERT_GE(socket.fd(), 0) << "socket(AF_XDP)";
  auto ok = classifier_->put_socket(classifier_->socket_slot(queue_id, rxq), socket.fd());
  ASSERT_TRUE(ok) << ok.error().message;
}

void ClassifierFixture::add_filter(const MacAddress& mac, std::uint16_t vlan, std::uint32_t queue_id,
                                   std::uint32_t filter_id) {
  vmq_filter_key key{};
  std::copy(mac.bytes().begin(), mac.bytes().end(), key.mac);
  key.vlan = vlan;
  auto ok = classifier_->put_filter(key, vmq_filter_value{queue_id, filter_id});
  ASSERT_TRUE(ok) << ok.error().message;
  filter_ids_.push_back(filter_id);
}

CounterSnapshot ClassifierFixture::snapshot() const {
  CounterSnapshot s;
  auto by_reason = classifier_->default_traffic();
  EXPECT_TRUE(by_reason) << by_reason.error().message;
  if (by_reason) s.by_reason = *by_reason;
  for (auto q : queue_ids_) s.queues[q] = classifier_->queue_traffic(q).value_or(vmq_traffic{});
  for (auto f : filter_ids_) s.filter_hits[f] = classifier_->filter_hits(f).value_or(0);
  return s;
}

Outcome ClassifierFixture::run(const std::vector<std::uint8_t>& frame, std::uint32_t ifindex, std::uint32_t rxq) {
  Outcome o;
  o.before = snapshot();
  auto result = classifier_->test_run(frame, ifindex, rxq);
  EXPECT_TRUE(result) << result.error().message;
  if (result) {
    o.action = result->action;
    o.frame = std::move(result->frame);
  }
  o.after = snapshot();
  return o;
}

void ClassifierFixture::expect_default(const Outcome& o, const std::vector<std::uint8_t>& sent,
                                       vmq_default_reason reason) {
  EXPECT_EQ(o.action, XDP_PASS);
  EXPECT_EQ(o.frame, sent) << "the default queue must see the frame as it arrived";
  for (std::uint32_t r = 0; r < VMQ_DEFAULT_REASON_COUNT; ++r) {
    const bool expected = r == static_cast<std::uint32_t>(reason);
    EXPECT_EQ(o.after.by_reason[r].packets - o.before.by_reason[r].packets, expected ? 1u : 0u) << "reason " << r;
    EXPECT_EQ(o.after.by_reason[r].bytes - o.before.by_reason[r].bytes, expected ? sent.size() : 0u)
        << "reason " << r;
  }
  for (auto& [q, t] : o.after.queues) EXPECT_EQ(t.packets, o.before.queues.at(q).packets) << "queue " << q;
  for (auto& [f, h] : o.after.filter_hits) EXPECT_EQ(h, o.before.filter_hits.at(f)) << "filter " << f;
}

void ClassifierFixture::expect_redirect(const Outcome& o, const std::vector<std::uint8_t>& delivered,
                                        std::uint32_t queue_id, std::uint32_t filter_id) {
  EXPECT_EQ(o.action, XDP_REDIRECT);
  EXPECT_EQ(o.frame, delivered);
  for (std::uint32_t r = 0; r < VMQ_DEFAULT_REASON_COUNT; ++r)
    EXPECT_EQ(o.after.by_reason[r].packets, o.before.by_reason[r].packets) << "reason " << r;
  for (auto& [q, t] : o.after.queues) {
    const bool expected = q == queue_id;
    EXPECT_EQ(t.packets - o.before.queues.at(q).packets, expected ? 1u : 0u) << "queue " << q;
    EXPECT_EQ(t.bytes - o.before.queues.at(q).bytes, expected ? delivered.size() : 0u) << "queue " << q;
  }
  for (auto& [f, h] : o.after.filter_hits)
    EXPECT_EQ(h - o.before.filter_hits.at(f), f == filter_id ? 1u : 0u) << "filter " << f;
}

}  // namespace vmq::test
