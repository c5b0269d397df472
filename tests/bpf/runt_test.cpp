// Runt frames (1..13 bytes): the kernel keeps them from XDP, and the
// classifier's parser, shown one through the test harness, calls it malformed.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>

#include "runt_harness.skel.h"
#include "support/classifier_fixture.h"

namespace vmq::test {
namespace {

class RuntFrames : public ClassifierFixture {};

TEST_F(RuntFrames, KernelNeverRunsXdpOnAFrameShorterThanAnEthernetHeader) {
  const auto full = FrameBuilder().dst(mac("52:54:00:00:00:01")).build();
  for (std::size_t len = 1; len <= 13; ++len) {
    SCOPED_TRACE(len);
    const std::vector<std::uint8_t> runt(full.begin(), full.begin() + static_cast<long>(len));
    auto result = classifier_->test_run(runt);
    ASSERT_FALSE(result) << "the kernel ran XDP on a " << len << "-byte frame: the harness below is then not needed";
    EXPECT_EQ(result.error().sys_errno, EINVAL);
  }
}

struct HarnessDeleter {
  void operator()(runt_harness* skel) const { runt_harness__destroy(skel); }
};

TEST(RuntHarness, RuntFramesAreMalformedAndNeverMatch) {
  VMQ_REQUIRE_BPF();
  std::unique_ptr<runt_harness, HarnessDeleter> skel(runt_harness__open_and_load());
  ASSERT_TRUE(skel) << "loading the runt harness: " << std::strerror(errno);

  // A running queue with a socket and a filter for the frame's MAC: a parser
  // that looked past the runt's end would redirect it.
  const std::uint32_t queue_id = 1, filter_id = 1;
  vmq_queue_entry queue{VMQ_QUEUE_RUNNING, VMQ_VLAN_MODE_TRUNK, 1, 0};
  ASSERT_EQ(bpf_map__update_elem(skel->maps.vmq_queues, &queue_id, 4, &queue, sizeof queue, 0), 0);
  // The harness's filter table is empty: the filter takes the first slot of
  // its first bucket (hashes from the harness's default .rodata).
  const vmq_filter_key key{{0x52, 0x54, 0, 0, 0, 1}, VMQ_VLAN_UNTAGGED_OR_ZERO};
  vmq_filter_bucket bucket{};
  bucket.slot[0] = {vmq_filter_key_word(&key), {queue_id, filter_id}};
  const std::uint32_t index = vmq_filter_bucket_index(bucket.slot[0].key, skel->rodata->filter_hash_first,
                                                      skel->rodata->filter_bucket_shift);
  ASSERT_EQ(bpf_map__update_elem(skel->maps.vmq_filters, &index, 4, &bucket, sizeof bucket, 0), 0);
  XskPlaceholder socket;
  const std::uint32_t slot = queue_id;  // rxq_count 1
  const int fd = socket.fd();
  ASSERT_EQ(bpf_map__update_elem(skel->maps.vmq_xsks, &slot, 4, &fd, 4, 0), 0);

  const auto frame = FrameBuilder().dst(mac("52:54:00:00:00:01")).build();  // 60 bytes
  const int cpus = libbpf_num_possible_cpus();
  auto malformed_packets = [&] {
    std::vector<vmq_traffic> per_cpu(static_cast<std::size_t>(cpus));
    const std::uint32_t reason = VMQ_DEFAULT_MALFORMED;
    EXPECT_EQ(bpf_map__lookup_elem(skel->maps.vmq_default_stats, &reason, 4, per_cpu.data(),
                                   per_cpu.size() * sizeof(vmq_traffic), 0),
              0);
    std::uint64_t n = 0;
    for (auto& t : per_cpu) n += t.packets;
    return n;
  };

  auto run_harness = [&](std::uint32_t len) {
    std::array<std::uint8_t, 4> metadata{};
    std::memcpy(metadata.data(), &len, sizeof len);
    auto run = os::run_xdp_test(bpf_program__fd(skel->progs.vmq_classify_runt), {frame, metadata});
    EXPECT_TRUE(run) << run.error().message;
    return run ? run->action : std::uint32_t{XDP_ABORTED};
  };

  for (std::uint32_t len = 1; len <= 13; ++len) {
    SCOPED_TRACE(len);
    const auto before = malformed_packets();
    EXPECT_EQ(run_harness(len), XDP_PASS);
    EXPECT_EQ(malformed_packets() - before, 1u);
  }
  // The same harness at 14 bytes sees a whole header and redirects: the
  // verdicts above come from the length, not from the harness.
  EXPECT_EQ(run_harness(14), XDP_REDIRECT);
}

}  // namespace
}  // namespace vmq::test
