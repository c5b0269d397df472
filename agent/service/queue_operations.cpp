#include "service/queue_operations.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <optional>

#include <fmt/format.h>

namespace vmq::service {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

// Lets the loop serve others for `interval`; a cancelled wait ends early,
// and the caller's next probe decides what that means.
asio::awaitable<void> pause(asio::steady_timer& timer, Clock::duration interval) {
  timer.expires_after(interval);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace

asio::awaitable<Result<QueueId>> QueueOperations::create(const QueueParams& params,
                                                         const std::vector<FilterMatch>& filters) {
  auto id = manager_.prepare(params, filters);
  if (!id) co_return id;
  if (auto started = co_await start(*id); !started) {
    manager_.discard(*id);
    co_return std::unexpected(started.error());
  }
  co_return id;
}

asio::awaitable<Result<void>> QueueOperations::resume(QueueId queue) {
  if (manager_.awaits_completion(queue)) co_return co_await start(queue);
  co_return manager_.resume(queue);
}

asio::awaitable<Result<void>> QueueOperations::restore(const Queue& saved, const std::vector<Filter>& filters) {
  auto id = manager_.restore(saved, filters);
  if (!id) co_return std::unexpected(id.error());
  if (auto started = co_await start(*id); !started) co_return Result<void>{};  // kept, with last_error
  if (saved.paused_by_operator && !filters.empty()) co_return manager_.pause(*id);
  co_return Result<void>{};
}

asio::awaitable<Result<void>> QueueOperations::start(QueueId queue) {
  if (auto begun = manager_.begin_start(queue); !begun) co_return begun;
  auto started = co_await bind(queue);
  if (started) started = co_await settle(queue);
  co_return manager_.finish_start(queue, std::move(started));
}

asio::awaitable<Result<void>> QueueOperations::bind(QueueId queue) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto give_up = Clock::now() + timing_.port_retry_limit;
  while (true) {
    auto started = manager_.try_start(queue);
    if (started || !port_still_held(started.error()) || Clock::now() >= give_up) co_return started;
    co_await pause(timer, timing_.port_retry);
  }
}

asio::awaitable<Result<void>> QueueOperations::set_cpu(QueueId queue, unsigned cpu, MoveOrigin by,
                                                       std::string reason) {
  const Queue* before = manager_.queue(queue);
  const unsigned from = before ? before->cpu : cpu;
  auto moving = manager_.begin_move(queue, cpu);
  if (!moving) co_return std::unexpected(moving.error());
  if (*moving) {
    auto moved = co_await settle(queue);
    if (auto ok = manager_.finish_move(queue, cpu, std::move(moved)); !ok) co_return ok;
  }
  if (from != cpu)
    manager_.record_move(queue, QueueMoveRecord{from, cpu, by, std::move(reason), std::chrono::system_clock::now()});
  co_return Result<void>{};
}

asio::awaitable<Result<DrainResult>> QueueOperations::remove(QueueId queue) {
  auto freeing = manager_.begin_remove(queue);
  if (!freeing) co_return std::unexpected(freeing.error());
  Result<DrainResult> drained = DrainResult{};
  if (freeing->must_drain) drained = co_await drain(queue);
  // A stop never fails: a queue whose worker does not let go is freed later.
  if (manager_.release_resources(*freeing) && freeing->must_drain) (void)co_await settle(queue);
  co_return manager_.finish_free(*freeing, std::move(drained));
}

asio::awaitable<std::vector<Error>> QueueOperations::quiesce() {
  std::vector<Error> errors;
  const std::vector<QueueId> queues = manager_.begin_quiesce(errors);
  for (const QueueId id : queues) {
    auto drained = co_await drain(id);
    if (!drained) errors.push_back(drained.error());
  }
  co_return errors;
}

asio::awaitable<Result<DrainResult>> QueueOperations::drain(QueueId queue) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto timeout = manager_.limits().drain_timeout;
  const auto start = Clock::now();
  std::optional<std::uint64_t> delivered_before;
  auto quiet_since = Clock::time_point::max();
  while (true) {
    auto probe = manager_.drain_probe(queue);
    if (!probe) co_return std::unexpected(probe.error());
    const auto now = Clock::now();
    if (!delivered_before) delivered_before = probe->delivered;
    if (!probe->rings_empty) {
      quiet_since = Clock::time_point::max();
    } else {
      if (quiet_since == Clock::time_point::max()) quiet_since = now;
      if (now - quiet_since >= timing_.drain_quiet)
        co_return DrainResult{probe->delivered - *delivered_before,
                              std::chrono::duration_cast<std::chrono::microseconds>(quiet_since - start),
                              probe->stats};
    }
    if (now - start > timeout)
      co_return fail(Errc::timeout, fmt::format("queue {}: its port did not take the queue's frames within {} ms",
                                                queue, timeout.count()));
    co_await pause(timer, timing_.drain_poll);
  }
}

asio::awaitable<Result<void>> QueueOperations::settle(QueueId queue) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto interval = timing_.settle_poll_first;
  while (true) {
    auto settled = manager_.change_settled(queue);
    if (!settled) co_return std::unexpected(settled.error());
    if (*settled) co_return Result<void>{};
    co_await pause(timer, interval);
    interval = std::min(interval * 2, timing_.settle_poll_max);
  }
}

}  // namespace vmq::service
