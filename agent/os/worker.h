// A thread pinned to one CPU that serves every VM queue placed on that CPU
// (the shape of OVS's PMD threads and of VMQ's per-processor DPCs). It polls
// while frames flow and sleeps in poll(2) when they stop.
#pragma once

#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/error.h"
#include "os/unique_fd.h"

namespace vmq::os {

class VmQueuePath;

class Worker {
 public:
  static Result<std::unique_ptr<Worker>> start(unsigned cpu);
  ~Worker();  // stops and joins the thread
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  unsigned cpu() const { return cpu_; }
  int tid() const { return tid_.load(); }
  std::size_t queue_count() const { return queue_count_.load(); }
  // Both return once the worker has taken the change into account: after
  // remove(), the worker no longer touches the queue.
  Result<void> add(VmQueuePath* queue);
  Result<void> remove(VmQueuePath* queue);

 private:
  struct Command {
    enum class Kind { add, remove, stop } kind;
    VmQueuePath* queue;
    std::promise<void> done;
  };

  explicit Worker(unsigned cpu) : cpu_(cpu) {}
  Result<void> submit(Command::Kind kind, VmQueuePath* queue);
  void run(std::promise<Result<void>> started);
  bool apply_commands();  // false once asked to stop
  void wait_for_work();

  unsigned cpu_;
  std::thread thread_;
  UniqueFd wakeup_;  // eventfd: a command is waiting
  std::mutex commands_lock_;
  std::vector<Command> commands_;
  std::vector<VmQueuePath*> queues_;  // the worker thread's own
  std::vector<int> poll_fds_;         // rebuilt when queues_ changes
  std::atomic<int> tid_{0};
  std::atomic<std::size_t> queue_count_{0};
};

}  // namespace vmq::os
