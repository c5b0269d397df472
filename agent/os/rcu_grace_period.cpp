#include "os/rcu_grace_period.h"

#include <bpf/bpf.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace vmq::os {

long RcuGracePeriod::system_membarrier(int cmd) { return syscall(__NR_membarrier, cmd, 0, 0); }

Result<RcuGracePeriod> RcuGracePeriod::create(Membarrier membarrier) {
  RcuGracePeriod grace(std::move(membarrier));
  const long supported = grace.membarrier_(MEMBARRIER_CMD_QUERY);
  if (supported >= 0 && (supported & MEMBARRIER_CMD_GLOBAL)) return grace;
  if (auto ok = grace.use_map_in_map(); !ok) return std::unexpected(ok.error());
  return grace;
}

Result<void> RcuGracePeriod::use_map_in_map() {
  inner_.reset(bpf_map_create(BPF_MAP_TYPE_ARRAY, "vmq_rcu_inner", sizeof(__u32), sizeof(__u32), 1, nullptr));
  if (!inner_) return fail_errno(errno, "creating the map that waits for RCU grace periods");
  LIBBPF_OPTS(bpf_map_create_opts, opts, .inner_map_fd = static_cast<__u32>(inner_.get()));
  map_in_map_.reset(bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "vmq_rcu_wait", sizeof(__u32), sizeof(__u32), 1, &opts));
  if (!map_in_map_) return fail_errno(errno, "creating the map that waits for RCU grace periods");
  return {};
}

Result<void> RcuGracePeriod::wait() {
  if (!map_in_map_) {
    if (membarrier_(MEMBARRIER_CMD_GLOBAL) == 0) return {};
    // Offered at start, refused now (the kernel's view of nohz_full changed?):
    // the map-in-map way still works.
    if (errno != EINVAL) return fail_errno(errno, "waiting for the classifier's running lookups (membarrier)");
    if (auto ok = use_map_in_map(); !ok) return ok;
  }
  const __u32 key = 0, inner = static_cast<__u32>(inner_.get());
  if (bpf_map_update_elem(map_in_map_.get(), &key, &inner, BPF_ANY))
    return fail_errno(errno, "waiting for the classifier's running lookups (map-in-map update)");
  return {};
}

}  // namespace vmq::os
