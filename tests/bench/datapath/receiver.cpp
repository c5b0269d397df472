#include "receiver.h"

#include <future>

#include "netns.h"

namespace vmq::bench {

Result<void> PollingThread::start(unsigned cpu, std::function<unsigned()> poll, std::chrono::seconds max_run) {
  if (thread_.joinable()) return fail(Errc::invalid_state, "the consumer is already running");
  stop_ = false;
  std::promise<Result<void>> pinned;
  auto ready = pinned.get_future();
  thread_ = std::thread([this, cpu, poll = std::move(poll), max_run, pinned = std::move(pinned)]() mutable {
    auto ok = pin_thread_to_cpu(cpu);
    const bool run = ok.has_value();
    pinned.set_value(std::move(ok));
    if (!run) return;
    const auto deadline = std::chrono::steady_clock::now() + max_run;
    std::uint64_t rounds = 0;
    // Checks the clock once every 4,096 rounds: a busy poll must stay cheap.
    while (!stop_.load(std::memory_order_relaxed)) {
      const unsigned n = poll();
      if (n > 0)
        frames_.fetch_add(n, std::memory_order_relaxed);
      else
        empty_polls_.fetch_add(1, std::memory_order_relaxed);
      if ((++rounds & 4095) == 0 && std::chrono::steady_clock::now() > deadline) break;
    }
  });
  auto ok = ready.get();
  if (!ok) thread_.join();
  return ok;
}

void PollingThread::stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  thread_.join();
}

}  // namespace vmq::bench
