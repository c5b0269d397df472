// Runs one request through ControlApi::handle to its end on a private
// io_context (a drain's timers included), for tests that call the API
// directly rather than through the control server.
#pragma once

#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "service/control_api.h"

namespace vmq::test {

inline api::Reply handle_now(service::ControlApi& api, const api::Request& request) {
  boost::asio::io_context io;
  auto reply = boost::asio::co_spawn(io, api.handle(request), boost::asio::use_future);
  io.run();
  return reply.get();
}

}  // namespace vmq::test
