#include "service/queue_operations.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>

#include <fmt/format.h>

namespace vmq::service {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

asio::awaitable<Result<DrainResult>> QueueOperations::remove(QueueId queue) {
  auto freeing = manager_.begin_remove(queue);
  if (!freeing) co_return std::unexpected(freeing.error());
  Result<DrainResult> drained = DrainResult{};
  if (freeing->must_drain) drained = co_await drain(queue);
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
    timer.expires_after(timing_.drain_poll);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace vmq::service
