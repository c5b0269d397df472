// The run config libxdp's dispatcher reads from each build of the classifier.
#include <gtest/gtest.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "os/classifier.h"

namespace vmq::os {
namespace {

class RunConfig : public testing::TestWithParam<bool> {};

// libxdp finds a program's run config by the program's name: a build without
// its own would run at the default priority (50), before filters it should follow.
TEST_P(RunConfig, EachBuildRunsAtPriority60AndPassesOnWhatItDoesNotRedirect) {
  const bool multi_buffer = GetParam();
  auto classifier = Classifier::open({.max_queues = 8, .max_filters = 16, .rxq_count = 1, .max_frame_len = 3840,
                                      .multi_buffer = multi_buffer});
  ASSERT_TRUE(classifier) << classifier.error().message;
  const char* name = bpf_program__name(classifier->program());
  EXPECT_STREQ(name, multi_buffer ? "vmq_classify_mb" : "vmq_classify");
  DECLARE_LIBXDP_OPTS(xdp_program_opts, opts, .obj = classifier->object(), .prog_name = name);
  xdp_program* program = xdp_program__create(&opts);
  ASSERT_EQ(libxdp_get_error(program), 0);
  EXPECT_EQ(xdp_program__run_prio(program), 60u);
  EXPECT_TRUE(xdp_program__chain_call_enabled(program, XDP_PASS));
  EXPECT_FALSE(xdp_program__chain_call_enabled(program, XDP_REDIRECT));
  xdp_program__close(program);
}

INSTANTIATE_TEST_SUITE_P(Builds, RunConfig, testing::Values(false, true),
                         [](const testing::TestParamInfo<bool>& build) { return build.param ? "multi_buffer" : "single_buffer"; });

}  // namespace
}  // namespace vmq::os
