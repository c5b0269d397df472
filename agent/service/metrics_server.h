// Serves GET /metrics over HTTP/1.1 (Boost.Beast) on vmqd's io_context:
// 404 for any other path, 405 for any other method, keep-alive for scrapers
// that reuse their connection. Every read and write has a deadline and the
// number of connections is bounded, so a slow, stalled or hostile client
// costs its own connection and never holds up the control socket that shares
// the loop. stop() closes the listener and every connection.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/error.h"

namespace vmq::service {

struct MetricsServerLimits {
  std::size_t max_connections = 16;
  // Covers a whole request, and the wait for the next one on a kept-alive connection.
  std::chrono::milliseconds read_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds write_timeout{std::chrono::seconds(10)};
};

class MetricsServer {
 public:
  // Called for every GET /metrics; returns the exposition text.
  using Render = std::function<std::string()>;

  static Result<std::unique_ptr<MetricsServer>> open(boost::asio::io_context& io,
                                                     const boost::asio::ip::tcp::endpoint& endpoint, Render render,
                                                     MetricsServerLimits limits = {});
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  void start();
  void stop();
  boost::asio::ip::tcp::endpoint local_endpoint() const { return endpoint_; }

  struct Shared;  // what connections share with the server; outlives it while their handlers are pending

 private:
  MetricsServer(boost::asio::io_context& io, std::shared_ptr<Shared> shared);
  void accept();

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_;
  boost::asio::ip::tcp::endpoint endpoint_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace vmq::service
