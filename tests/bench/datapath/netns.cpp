#include "netns.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>

#include <cerrno>

#include <fmt/format.h>

namespace vmq::bench {
namespace {

Result<UniqueFd> open_namespace(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno(errno, fmt::format("opening network namespace {}", path));
  return fd;
}

Result<void> switch_to(const UniqueFd& ns, const std::string& what) {
  if (::setns(ns.get(), CLONE_NEWNET) != 0) return fail_errno(errno, fmt::format("entering network namespace {}", what));
  return {};
}

}  // namespace

Result<NetnsGuard> NetnsGuard::enter(const std::string& name) {
  auto previous = open_namespace("/proc/thread-self/ns/net");
  if (!previous) return std::unexpected(previous.error());
  if (auto ok = enter_netns_for_good(name); !ok) return std::unexpected(ok.error());
  return NetnsGuard(std::move(*previous));
}

NetnsGuard::~NetnsGuard() {
  if (previous_) (void)::setns(previous_.get(), CLONE_NEWNET);
}

Result<void> enter_netns_for_good(const std::string& name) {
  auto ns = open_namespace("/run/netns/" + name);
  if (!ns) return std::unexpected(ns.error());
  return switch_to(*ns, name);
}

Result<void> pin_thread_to_cpu(unsigned cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (int err = pthread_setaffinity_np(pthread_self(), sizeof set, &set))
    return fail_errno(err, fmt::format("pinning a thread to CPU {}", cpu));
  return {};
}

}  // namespace vmq::bench
