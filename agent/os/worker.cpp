#include "os/worker.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "os/vm_queue_path.h"

namespace vmq::os {
namespace {

constexpr auto kCommandTimeout = std::chrono::seconds(5);
constexpr int kIdleRoundsBeforeSleep = 64;
constexpr int kSleepAwaitingPortMs = 1;  // completions come without a wakeup
constexpr int kSleepIdleMs = 200;

}  // namespace

Result<std::unique_ptr<Worker>> Worker::start(unsigned cpu) {
  std::unique_ptr<Worker> worker(new Worker(cpu));
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
  (void)submit(Command::Kind::stop, nullptr);
  thread_.join();
}

Result<void> Worker::add(VmQueuePath* queue) { return submit(Command::Kind::add, queue); }

Result<void> Worker::remove(VmQueuePath* queue) { return submit(Command::Kind::remove, queue); }

Result<void> Worker::submit(Command::Kind kind, VmQueuePath* queue) {
  std::future<void> done;
  {
    std::lock_guard lock(commands_lock_);
    auto& command = commands_.emplace_back(Command{kind, queue, {}});
    done = command.done.get_future();
  }
  const std::uint64_t one = 1;
  if (write(wakeup_.get(), &one, sizeof one) < 0 && errno != EAGAIN)
    return fail_errno(errno, fmt::format("waking the worker of CPU {}", cpu_));
  if (done.wait_for(kCommandTimeout) != std::future_status::ready)
    return fail(Errc::timeout, fmt::format("the worker of CPU {} did not answer within {} s", cpu_,
                                           kCommandTimeout.count()));
  return {};
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

  int idle_rounds = 0;
  while (apply_commands()) {
    unsigned work = 0;
    for (VmQueuePath* q : queues_) work += q->service();
    if (work > 0) {
      idle_rounds = 0;
      continue;
    }
    if (++idle_rounds >= kIdleRoundsBeforeSleep) wait_for_work();
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
  for (VmQueuePath* q : queues_)
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
  const bool awaiting = std::ranges::any_of(queues_, [](VmQueuePath* q) { return q->awaiting_port(); });
  poll(fds.data(), fds.size(), awaiting ? kSleepAwaitingPortMs : kSleepIdleMs);
  if (fds[0].revents & POLLIN) {
    std::uint64_t count = 0;
    (void)read(wakeup_.get(), &count, sizeof count);
  }
}

}  // namespace vmq::os
