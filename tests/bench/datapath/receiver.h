// The receive side of one case of the classified-receive benchmark: what is
// attached to the receiving veth and, when frames reach user space, a
// consumer thread that busy-polls the rings, counts and recycles.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "core/error.h"

namespace vmq::bench {

class Receiver {
 public:
  virtual ~Receiver() = default;
  virtual std::string id() const = 0;
  virtual std::string label() const = 0;
  // Starts the consumer (if the case has one) pinned to `cpu`.
  virtual Result<void> start(unsigned cpu) = 0;
  virtual void stop() = 0;
  // Frames counted at the receiver so far (monotonic across runs).
  virtual Result<std::uint64_t> frames() const = 0;
  // Counters that explain the figure (XDP_STATISTICS, classifier counters),
  // cumulative; the case reports their change over the window.
  virtual Result<nlohmann::json> counters() const = 0;
};

// A thread pinned to one CPU that calls `poll` until stopped or until
// `max_run` has passed. `poll` returns the frames it handled.
class PollingThread {
 public:
  PollingThread() = default;
  PollingThread(const PollingThread&) = delete;
  PollingThread& operator=(const PollingThread&) = delete;
  ~PollingThread() { stop(); }

  Result<void> start(unsigned cpu, std::function<unsigned()> poll,
                     std::chrono::seconds max_run = std::chrono::seconds(120));
  void stop();
  std::uint64_t frames() const { return frames_.load(std::memory_order_relaxed); }
  std::uint64_t empty_polls() const { return empty_polls_.load(std::memory_order_relaxed); }

 private:
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> frames_{0};
  std::atomic<std::uint64_t> empty_polls_{0};
};

}  // namespace vmq::bench
