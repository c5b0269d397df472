#include "os/xdp_test_run.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <algorithm>
#include <cerrno>

namespace vmq::os {

Result<TestRunResult> run_xdp_test(int program_fd, const XdpTestRun& run) {
  std::vector<std::uint8_t> in(run.metadata.begin(), run.metadata.end());
  in.insert(in.end(), run.frame.begin(), run.frame.end());
  // Room for a frame that grows (a VLAN tag put back).
  std::vector<std::uint8_t> out(in.size() + 256);

  xdp_md ctx_in{};
  ctx_in.data = static_cast<std::uint32_t>(run.metadata.size());
  ctx_in.data_end = static_cast<std::uint32_t>(in.size());
  ctx_in.ingress_ifindex = run.ifindex;
  ctx_in.rx_queue_index = run.rx_queue;
  xdp_md ctx_out{};
  LIBBPF_OPTS(bpf_test_run_opts, opts);
  opts.data_in = in.data();
  opts.data_size_in = static_cast<std::uint32_t>(in.size());
  opts.data_out = out.data();
  opts.data_size_out = static_cast<std::uint32_t>(out.size());
  opts.ctx_in = &ctx_in;
  opts.ctx_size_in = sizeof ctx_in;
  opts.ctx_out = &ctx_out;
  opts.ctx_size_out = sizeof ctx_out;
  opts.repeat = run.repeat;
  if (bpf_prog_test_run_opts(program_fd, &opts))
    return fail_errno(errno, "running an XDP program on a test frame (BPF_PROG_TEST_RUN)");
  out.resize(opts.data_size_out);
  out.erase(out.begin(), out.begin() + std::min<std::size_t>(ctx_out.data, out.size()));
  return TestRunResult{opts.retval, std::move(out), opts.duration};
}

}  // namespace vmq::os
