// The hook's two requests to vmqd, made idempotent: give a request's queue
// (creating it, keeping an identical one, or replacing a stale one of the same
// name), and remove a queue (vmqd drains it first). One connection, a bounded
// wait per call, and once vmqd is unreachable no further waiting.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "api/client.h"
#include "api/methods.h"
#include "base/error.h"
#include "libvirt_hook/queue_plan.h"

namespace vmq::libvirt_hook {

class VmqdQueues {
 public:
  VmqdQueues(std::string socket_path, std::chrono::milliseconds timeout) : client_(std::move(socket_path), timeout) {}

  // A sentence saying what was done, for the log.
  Result<std::string> ensure(const QueueRequest& request);
  Result<std::string> remove(const std::string& name);

 private:
  template <typename Method>
  Result<typename Method::Reply> call(const typename Method::Params& params);
  Result<std::string> create(const QueueRequest& request, std::string_view replaced);

  api::Client client_;
  std::optional<Error> unreachable_;
};

// queue.add's parameters for a request.
api::QueueAddParams queue_add_params(const QueueRequest& request);
// Whether an existing queue (queue.show's result) already is what the request asks for.
bool matches(const api::Queue& queue, const QueueRequest& request);

}  // namespace vmq::libvirt_hook
