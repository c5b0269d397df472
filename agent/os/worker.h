// A thread pinned to one CPU that serves every VM queue placed on that CPU
// (the shape of OVS's PMD threads and of VMQ's per-processor DPCs). It polls
// while frames flow and sleeps in poll(2) when they stop.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "base/unique_fd.h"
#include "core/error.h"

namespace vmq::os {

class ServicedQueue;

class Worker {
 public:
  static constexpr std::chrono::milliseconds kCommandTimeout{5000};

  // A command the worker has not taken within `command_timeout` is withdrawn
  // and fails with Errc::timeout, having changed nothing.
  static Result<std::unique_ptr<Worker>> start(unsigned cpu,
                                               std::chrono::milliseconds command_timeout = kCommandTimeout);
  ~Worker();  // stops and joins the thread
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  unsigned cpu() const { return cpu_; }
  int tid() const { return tid_.load(); }
  std::size_t queue_count() const { return queue_count_.load(); }
  // Frames its queues took from their RX rings, and the thread's CPU time (user and system:
  // the kernel's transmit work in its system calls too), since it started.
  std::uint64_t frames() const { return frames_.load(std::memory_order_relaxed); }
  std::chrono::nanoseconds cpu_time() const;
  // A command posted to the worker. The caller polls settled() until the
  // worker has taken it: posting never waits for the worker.
  class Ticket {
   public:
    Ticket(Ticket&&) = default;
    Ticket& operator=(Ticket&&) = default;

   private:
    friend class Worker;
    Ticket(std::uint64_t id, std::future<void> done, std::chrono::steady_clock::time_point deadline)
        : id_(id), done_(std::move(done)), deadline_(deadline) {}
    std::uint64_t id_;
    std::future<void> done_;
    std::chrono::steady_clock::time_point deadline_;
  };
  // Once settled, the worker has taken the change into account: after a
  // removal it no longer touches the queue.
  Result<Ticket> post_add(ServicedQueue* queue);
  Result<Ticket> post_remove(ServicedQueue* queue);
  // Never waits: false while the command is queued or being applied, true
  // once applied. A command the worker has not taken by the ticket's
  // deadline is withdrawn and fails with Errc::timeout, having changed
  // nothing: after a failed add the worker never saw the queue, after a
  // failed remove it still serves it.
  Result<bool> settled(Ticket& ticket);

 private:
  struct Command {
    enum class Kind { add, remove, stop } kind;
    ServicedQueue* queue;
    std::uint64_t id;
    std::promise<void> done;
  };

  Worker(unsigned cpu, std::chrono::milliseconds command_timeout) : cpu_(cpu), command_timeout_(command_timeout) {}
  struct Posted {
    std::uint64_t id = 0;
    std::future<void> done;
    int wake_errno = 0;  // the wakeup could not be written (the command is queued all the same)
  };
  // Queues a command and wakes the worker.
  Posted post(Command::Kind kind, ServicedQueue* queue);
  Result<Ticket> submit(Command::Kind kind, ServicedQueue* queue);
  // Takes a command back if the worker has not taken it yet.
  bool withdraw(std::uint64_t id);
  void run(std::promise<Result<void>> started);
  bool apply_commands();  // false once asked to stop
  void wait_for_work();

  unsigned cpu_;
  std::chrono::milliseconds command_timeout_;
  std::thread thread_;
  UniqueFd wakeup_;  // eventfd: a command is waiting
  std::mutex commands_lock_;
  std::vector<Command> commands_;
  std::uint64_t next_command_id_ = 1;  // under commands_lock_
  std::vector<ServicedQueue*> queues_;  // the worker thread's own
  std::vector<int> poll_fds_;         // rebuilt when queues_ changes
  std::atomic<int> tid_{0};
  std::atomic<std::size_t> queue_count_{0};
  std::atomic<std::uint64_t> frames_{0};
};

}  // namespace vmq::os
