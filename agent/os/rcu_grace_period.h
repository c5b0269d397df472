// Waiting for an RCU grace period from user space: once wait() returns, every
// XDP program run that had started when it was called has ended (each run,
// native or generic, is an RCU read-side critical section). The classifier's
// filter table relies on it to reuse a slot safely.
//
// membarrier(MEMBARRIER_CMD_GLOBAL) is synchronize_rcu(). The kernel refuses
// it on hosts booted with nohz_full (common on KVM hosts with isolated CPUs);
// there the wait is an update of a map-in-map, which the kernel follows with
// synchronize_rcu() so that user space knows no program still sees the old
// inner map (kernel/bpf/syscall.c, maybe_wait_bpf_programs()).
#pragma once

#include <functional>

#include "base/unique_fd.h"
#include "core/error.h"

namespace vmq::os {

class RcuGracePeriod {
 public:
  // The membarrier(2) system call: cmd -> result, or -1 with errno set.
  using Membarrier = std::function<long(int cmd)>;
  static long system_membarrier(int cmd);

  // Chooses membarrier when the kernel offers MEMBARRIER_CMD_GLOBAL, else a
  // map-in-map (created here: needs CAP_BPF).
  static Result<RcuGracePeriod> create(Membarrier membarrier = system_membarrier);

  Result<void> wait();
  const char* method() const { return map_in_map_ ? "map-in-map" : "membarrier"; }

 private:
  explicit RcuGracePeriod(Membarrier membarrier) : membarrier_(std::move(membarrier)) {}
  Result<void> use_map_in_map();

  Membarrier membarrier_;
  UniqueFd inner_;       // an empty one-entry array
  UniqueFd map_in_map_;  // holds inner_; each update of it waits for a grace period
};

}  // namespace vmq::os
