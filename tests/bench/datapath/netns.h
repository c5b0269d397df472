// Network namespaces of the benchmark, entered by one thread at a time:
// setns(CLONE_NEWNET) moves only the calling thread, so a generator thread
// can live in the "wire" namespace while the main thread stays in the host's.
#pragma once

#include <string>

#include "base/unique_fd.h"
#include "core/error.h"

namespace vmq::bench {

// The calling thread enters a named namespace (/run/netns/NAME) until the
// guard goes away, then returns to the namespace it was in.
class NetnsGuard {
 public:
  static Result<NetnsGuard> enter(const std::string& name);
  NetnsGuard(NetnsGuard&&) noexcept = default;
  NetnsGuard& operator=(NetnsGuard&&) = delete;
  NetnsGuard(const NetnsGuard&) = delete;
  NetnsGuard& operator=(const NetnsGuard&) = delete;
  ~NetnsGuard();

 private:
  explicit NetnsGuard(UniqueFd previous) : previous_(std::move(previous)) {}
  UniqueFd previous_;
};

// Moves the calling thread into the namespace for good (threads it creates
// afterwards start there too).
Result<void> enter_netns_for_good(const std::string& name);

Result<void> pin_thread_to_cpu(unsigned cpu);

}  // namespace vmq::bench
