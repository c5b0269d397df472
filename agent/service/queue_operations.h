// The queue operations that wait (for a queue's drain, for a port the kernel
// still releases, for a worker thread's answer), run on the control loop: each awaits between
// QueueManager's steps on an Asio timer, so that the loop serves other
// requests and /metrics meanwhile.
#pragma once

#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/queue_manager.h"

namespace vmq::service {

struct OperationTiming {
  // A drain probes the queue's rings this often...
  std::chrono::microseconds drain_poll{100};
  // ...until they have stayed empty this long: a frame the classifier
  // redirected just before the queue stopped reaches its RX ring at the end
  // of that NAPI poll. (The drain's limit is QueueLimits::drain_timeout.)
  std::chrono::microseconds drain_quiet{2000};
  // Starting a queue whose port the kernel still releases is tried again
  // this often...
  std::chrono::microseconds port_retry{1000};
  // ...for at most this long.
  std::chrono::milliseconds port_retry_limit{1000};
  // A worker's answer is polled after this long, then less and less often
  // up to the second value (a command it does not take times out on its own).
  std::chrono::microseconds settle_poll_first{50};
  std::chrono::microseconds settle_poll_max{5000};
};

class QueueOperations {
 public:
  explicit QueueOperations(QueueManager& manager, OperationTiming timing = {}) : manager_(manager), timing_(timing) {}

  // Allocates a queue, sets its filters and starts it, or leaves nothing
  // behind.
  boost::asio::awaitable<Result<QueueId>> create(const QueueParams& params, const std::vector<FilterMatch>& filters);
  // Ends an operator pause; a queue whose allocation did not complete is
  // started again.
  boost::asio::awaitable<Result<void>> resume(QueueId queue);
  // Re-creates a saved queue with its ids. One that cannot start (its port
  // is gone, say) stays allocated with last_error set, for the operator.
  boost::asio::awaitable<Result<void>> restore(const Queue& saved, const std::vector<Filter>& filters);
  // Moves a queue to another CPU (its worker's) and remembers who moved it and why.
  boost::asio::awaitable<Result<void>> set_cpu(QueueId queue, unsigned cpu, MoveOrigin by = MoveOrigin::operator_request,
                                               std::string reason = "");
  // Clears every filter of the queue (new frames take the default path),
  // delivers what it holds, then frees it.
  boost::asio::awaitable<Result<DrainResult>> remove(QueueId queue);
  // Shutdown: every started queue stops receiving and what it holds is
  // delivered; records stay. Returns what could not be done.
  boost::asio::awaitable<std::vector<Error>> quiesce();

 private:
  boost::asio::awaitable<Result<void>> start(QueueId queue);
  // Tries until the port is free or port_retry_limit has passed.
  boost::asio::awaitable<Result<void>> bind(QueueId queue);
  boost::asio::awaitable<Result<DrainResult>> drain(QueueId queue);
  // Until a worker has answered the dataplane's last change to the queue.
  boost::asio::awaitable<Result<void>> settle(QueueId queue);

  QueueManager& manager_;
  OperationTiming timing_;
};

}  // namespace vmq::service
