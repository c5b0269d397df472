// How busy each worker is: the share of its CPU it used and the CPU time it
// spent per frame, over the last sampling interval. The worker's CPU time
// includes the kernel work its system calls do (copy-mode transmit, the
// receiving softirq that runs on the worker's CPU while it transmits).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace vmq {

// A worker's counters as the dataplane reads them: totals since it started.
struct WorkerSample {
  unsigned cpu = 0;
  int tid = 0;
  std::size_t queues = 0;
  std::chrono::nanoseconds cpu_time{0};  // the worker thread's CPU time (user + system)
  std::uint64_t frames = 0;              // frames its queues took from their RX rings
};

struct WorkerLoad {
  WorkerSample totals;
  std::optional<double> busy_share;    // CPU time / wall time over the interval, 0..1
  std::optional<double> ns_per_frame;  // CPU time / frames over the interval (none without frames)
};

class WorkerLoadMeter {
 public:
  // Takes a new sample of every worker; loads are over the time since the
  // previous one. A worker seen for the first time (or restarted) has no load yet.
  void update(const std::vector<WorkerSample>& samples, std::chrono::steady_clock::time_point now);
  const std::vector<WorkerLoad>& loads() const { return loads_; }

 private:
  struct Previous {
    WorkerSample sample;
    std::chrono::steady_clock::time_point at;
  };
  std::map<unsigned, Previous> previous_;  // by CPU
  std::vector<WorkerLoad> loads_;
};

}  // namespace vmq
