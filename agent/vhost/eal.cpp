#include "vhost/eal.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

namespace vmq::vhost {
namespace {

// DPDK writes its log to a FILE*; this one hands each line to vmqd's log at
// the level DPDK gave the message.
struct LogCookie {
  LogSink sink;
  std::string line;
};

LogLevel level_of(int level) {
  const auto dpdk_level = static_cast<std::uint32_t>(level);
  if (dpdk_level <= RTE_LOG_ERR) return LogLevel::error;
  if (dpdk_level == RTE_LOG_WARNING) return LogLevel::warning;
  if (dpdk_level == RTE_LOG_NOTICE) return LogLevel::notice;
  if (dpdk_level == RTE_LOG_INFO) return LogLevel::info;
  return LogLevel::debug;
}

ssize_t write_log(void* cookie, const char* text, size_t size) {
  auto* c = static_cast<LogCookie*>(cookie);
  c->line.append(text, size);
  for (std::size_t end; (end = c->line.find('\n')) != std::string::npos;) {
    if (end > 0 && c->sink) c->sink(level_of(rte_log_cur_msg_loglevel()), "dpdk: " + c->line.substr(0, end));
    c->line.erase(0, end + 1);
  }
  return static_cast<ssize_t>(size);
}

std::string cpu_list(const cpu_set_t& set) {
  std::string out;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &set)) out += (out.empty() ? "" : ",") + std::to_string(cpu);
  return out;
}

Result<void> start(const LogSink& log) {
  static LogCookie cookie;  // lives as long as DPDK may log
  cookie.sink = log;
  FILE* stream = fopencookie(&cookie, "w", cookie_io_functions_t{nullptr, write_log, nullptr, nullptr});
  if (stream == nullptr) return fail_errno(errno, "opening DPDK's log stream");
  setvbuf(stream, nullptr, _IOLBF, 0);
  rte_openlog_stream(stream);

  cpu_set_t affinity;
  if (int err = pthread_getaffinity_np(pthread_self(), sizeof affinity, &affinity); err != 0)
    return fail_errno(err, "reading the thread's CPU affinity before starting DPDK");
  // One lcore that may run on any CPU the caller may: vmqd's workers are
  // its own threads, pinned by vmqd, and call rte_vhost without an lcore.
  std::vector<std::string> args = {"vmqd",           "--no-huge",      "-m",         "64",
                                   "--no-pci",       "--no-shconf",    "--no-telemetry",
                                   "--log-level=5",  "--lcores",       fmt::format("0@({})", cpu_list(affinity))};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  const int parsed = rte_eal_init(static_cast<int>(argv.size()), argv.data());
  const int err = rte_errno;
  pthread_setaffinity_np(pthread_self(), sizeof affinity, &affinity);  // rte_eal_init pinned the caller
  if (parsed < 0)
    return fail(Errc::system, fmt::format("starting DPDK's EAL for vhost-user ports: {}", rte_strerror(err)));
  return {};
}

}  // namespace

Result<void> ensure_eal(const LogSink& log) {
  static std::mutex lock;
  static std::optional<Result<void>> outcome;
  std::lock_guard guard(lock);
  if (!outcome) outcome = start(log);
  return *outcome;
}

}  // namespace vmq::vhost
