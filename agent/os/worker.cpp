#include "os/worker.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <time.h>

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "os/serviced_queue.h"

namespace vmq::os {
namespace {

// After its last frame a worker polls this long before it sleeps: frames that
// follow closely need no wakeup. A time, not a count of rounds, because a
// round over many queues is long (64 rounds over 8 vhost-user queues were
// ~100 us of polling per wakeup, a third of vmqd's CPU at 12,500 frames/s a
// queue: docs/performance.md, host CPU per frame).
constexpr auto kPollBeforeSleep = std::chrono::microseconds(10);
constexpr int kSleepAwaitingPortMs = 1;  // completions come without a wakeup
constexpr int kSleepIdleMs = 200;

}  // namespace

Result<std::unique_ptr<Worker>> Worker::start(unsigned cpu, std::chrono::milliseconds command_timeout) {
  std::unique_ptr<Worker> worker(new Worker(cpu, command_timeout));
  worker->wakeup_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!worker->wakeup_) return fail_errno(errno, "creating a worker's eventfd");
  std::promise<Result<void>> started;
  auto result = started.get_future();
  worker->thread_ = std::thread(&Worker::run, worker.get(), std::move(started));
  if (auto ok = result.get(); !ok) {
    worker->thread_.join();
    return std::unexpected(ok.error());
  }
  return worker;
}

Worker::~Worker() {
  if (!thread_.joinable()) return;
  // Stopping waits as long as it takes: the thread must be gone before the
  // members it uses.
  (void)post(Command::Kind::stop, nullptr);
  thread_.join();
}

Result<Worker::Ticket> Worker::post_add(ServicedQueue* queue) { return submit(Command::Kind::add, queue); }

Result<Worker::Ticket> Worker::post_remove(ServicedQueue* queue) { return submit(Command::Kind::remove, queue); }

Worker::Posted Worker::post(Command::Kind kind, ServicedQueue* queue) {
  Posted posted;
  {
    std::lock_guard lock(commands_lock_);
    posted.id = next_command_id_++;
    posted.done = commands_.emplace_back(Command{kind, queue, posted.id, {}}).done.get_future();
  }
  const std::uint64_t one = 1;
  if (write(wakeup_.get(), &one, sizeof one) < 0 && errno != EAGAIN) posted.wake_errno = errno;
  return posted;
}

Result<Worker::Ticket> Worker::submit(Command::Kind kind, ServicedQueue* queue) {
  auto [id, done, wake_errno] = post(kind, queue);
  if (wake_errno != 0 && withdraw(id)) return fail_errno(wake_errno, fmt::format("waking the worker of CPU {}", cpu_));
  return Ticket(id, std::move(done), std::chrono::steady_clock::now() + command_timeout_);
}

Result<bool> Worker::settled(Ticket& ticket) {
  if (ticket.done_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) return true;
  if (std::chrono::steady_clock::now() < ticket.deadline_) return false;
  // A command left queued would reach the worker later, with a queue the
  // caller has freed by then: take it back. If the worker took it meanwhile,
  // it is applying it now and answers at the next poll.
  if (withdraw(ticket.id_))
    return fail(Errc::timeout, fmt::format("the worker of CPU {} did not answer within {} ms; nothing changed", cpu_,
                                           command_timeout_.count()));
  return false;
}

std::chrono::nanoseconds Worker::cpu_time() const {
  clockid_t clock{};
  timespec t{};
  if (pthread_getcpuclockid(const_cast<std::thread&>(thread_).native_handle(), &clock) != 0 ||
      clock_gettime(clock, &t) != 0)
    return std::chrono::nanoseconds(0);
  return std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec);
}

bool Worker::withdraw(std::uint64_t id) {
  std::lock_guard lock(commands_lock_);
  auto it = std::ranges::find(commands_, id, &Command::id);
  if (it == commands_.end()) return false;
  commands_.erase(it);
  return true;
}

void Worker::run(std::promise<Result<void>> started) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu_, &set);
  if (int err = pthread_setaffinity_np(pthread_self(), sizeof set, &set)) {
    started.set_value(fail_errno(err, fmt::format("pinning a worker to CPU {}", cpu_)));
    return;
  }
  const std::string name = fmt::format("vmq-cpu{}", cpu_);
  pthread_setname_np(pthread_self(), name.c_str());
  tid_ = gettid();
  started.set_value({});

  auto last_work = std::chrono::steady_clock::now();
  while (apply_commands()) {
    bool idle = true;
    unsigned frames = 0;
    for (ServicedQueue* q : queues_) {
      const ServiceRound round = q->service();
      idle = idle && round.idle();
      frames += round.frames;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!idle) {
      frames_.fetch_add(frames, std::memory_order_relaxed);
      last_work = now;
      continue;
    }
    if (now - last_work >= kPollBeforeSleep) wait_for_work();
  }
}

bool Worker::apply_commands() {
  std::vector<Command> pending;
  {
    std::lock_guard lock(commands_lock_);
    if (commands_.empty()) return true;
    pending.swap(commands_);
  }
  bool keep_running = true;
  for (Command& c : pending) {
    switch (c.kind) {
      case Command::Kind::add:
        queues_.push_back(c.queue);
        c.queue->set_worker_tid(tid_);
        break;
      case Command::Kind::remove:
        std::erase(queues_, c.queue);
        c.queue->set_worker_tid(0);
        break;
      case Command::Kind::stop:
        keep_running = false;
        break;
    }
  }
  poll_fds_.clear();
  for (ServicedQueue* q : queues_)
    for (int fd : q->poll_fds()) poll_fds_.push_back(fd);
  queue_count_ = queues_.size();
  for (Command& c : pending) c.done.set_value();
  return keep_running;
}

void Worker::wait_for_work() {
  std::vector<pollfd> fds;
  fds.reserve(poll_fds_.size() + 1);
  fds.push_back({wakeup_.get(), POLLIN, 0});
  for (int fd : poll_fds_) fds.push_back({fd, POLLIN, 0});
  const bool awaiting = std::ranges::any_of(queues_, [](ServicedQueue* q) { return q->awaiting_port(); });
  poll(fds.data(), fds.size(), awaiting ? kSleepAwaitingPortMs : kSleepIdleMs);
  if (fds[0].revents & POLLIN) {
    std::uint64_t count = 0;
    (void)read(wakeup_.get(), &count, sizeof count);
  }
}

}  // namespace vmq::os
