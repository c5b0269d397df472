// Serves the control API on a Unix stream socket: one coroutine per client,
// one JSON request per line, answered in order; while one client's request
// awaits (a drain), the others are served. Only root and members of the
// configured group may connect (the socket's mode, then the peer's
// credentials). A malformed, oversized or stalled request costs its own
// connection, never the agent.
#pragma once

#include <sys/types.h>

#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/log.h"
#include "service/control_api.h"

namespace vmq::service {

class ControlServer {
 public:
  // Refuses to start if another agent answers on `path`; removes a stale socket.
  static Result<std::unique_ptr<ControlServer>> open(boost::asio::io_context& io, const std::string& path,
                                                     const std::string& group, ControlApi& api, LogSink log);
  ~ControlServer();

  void start();
  // Accepts no more connections; a connection ends at once if it waits for
  // a request, after its reply if one is being handled.
  void stop();
  // Until every request being handled has been answered, or `limit` has passed.
  boost::asio::awaitable<void> wait_until_answered(std::chrono::steady_clock::duration limit);
  // Applies a new access group (SIGHUP).
  void set_group(const std::string& group);

 private:
  ControlServer(boost::asio::io_context& io, std::string path, ControlApi& api, LogSink log);
  struct Session;
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(boost::asio::local::stream_protocol::socket socket);
  static boost::asio::awaitable<void> send(Session& session, const api::Reply& reply);
  static boost::asio::awaitable<void> watch_idle(std::shared_ptr<Session> session);
  Result<void> check_peer(int fd) const;

  boost::asio::io_context& io_;
  std::string path_;
  ControlApi& api_;
  LogSink log_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::optional<gid_t> group_;
  std::string group_name_;
  std::shared_ptr<std::size_t> sessions_ = std::make_shared<std::size_t>(0);
  std::vector<std::weak_ptr<Session>> open_sessions_;
  bool stopping_ = false;
  std::size_t requests_in_progress_ = 0;
  boost::asio::steady_timer all_answered_;  // cancelled when the last request in progress is answered
  std::chrono::steady_clock::time_point last_accept_warning_{};
};

}  // namespace vmq::service
