// BPF_PROG_TEST_RUN for XDP programs: the classifier's own runs (vmqctl
// trace), the tests' runs of the runt harness, and the benchmarks'.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/error.h"

namespace vmq::os {

struct XdpTestRun {
  std::span<const std::uint8_t> frame;
  // XDP metadata in front of the frame (a multiple of 4 bytes, at most 32):
  // the program sees it between data_meta and data.
  std::span<const std::uint8_t> metadata = {};
  std::uint32_t ifindex = 0;  // 0: no device (rx_queue must then be 0)
  std::uint32_t rx_queue = 0;
  std::uint32_t repeat = 1;
};

struct TestRunResult {
  std::uint32_t action;             // XDP_PASS, XDP_REDIRECT, ...
  std::vector<std::uint8_t> frame;  // the frame as the program left it, without metadata
  std::uint32_t duration_ns;        // kernel-measured mean time per run
};

Result<TestRunResult> run_xdp_test(int program_fd, const XdpTestRun& run);

}  // namespace vmq::os
