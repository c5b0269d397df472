// For fake ServicedQueues in the worker tests: a gate that holds the worker
// inside service() (it then takes no command) until released, and a bounded
// wait for a condition the worker makes true.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace vmq::test {

class ServiceGate {
 public:
  // Called from service(): blocks while the gate is held, at most 10 s whatever the test does.
  void pass() {
    std::unique_lock lock(lock_);
    if (!hold_) return;
    hold_ = false;
    held_ = true;
    changed_.notify_all();
    changed_.wait_for(lock, std::chrono::seconds(10), [this] { return open_; });
    held_ = false;
  }
  // The next pass() blocks until release(); true once the worker is inside it.
  bool hold_and_wait() {
    std::unique_lock lock(lock_);
    hold_ = true;
    open_ = false;
    return changed_.wait_for(lock, std::chrono::seconds(5), [this] { return held_; });
  }
  void release() {
    std::lock_guard lock(lock_);
    open_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex lock_;
  std::condition_variable changed_;
  bool hold_ = false, held_ = false, open_ = true;
};

inline bool wait_for(const std::function<bool()>& condition,
                     std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace vmq::test
