// /metrics in vmqd's life: listens where the configuration says, follows a
// reload to a new address, stops with vmqd. An address vmqd cannot listen on
// (in use, not on this host) never stops vmqd: the data path matters more
// than its monitoring, so the failure is logged and the listen retried.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "core/log.h"
#include "service/metrics_server.h"

namespace vmq::service {

class MetricsEndpoint {
 public:
  static constexpr auto kRetryPeriod = std::chrono::seconds(10);

  MetricsEndpoint(boost::asio::io_context& io, MetricsServer::Render render, LogSink log,
                  std::chrono::milliseconds retry_period = kRetryPeriod);

  // Listens on `listen` ("ADDRESS:PORT"); "" turns /metrics off. Another
  // address closes the current listener and its connections first.
  void configure(const std::string& listen);
  void stop();

 private:
  void try_listen();

  MetricsServer::Render render_;
  LogSink log_;
  boost::asio::io_context& io_;
  std::chrono::milliseconds retry_period_;
  boost::asio::steady_timer retry_;
  std::string listen_;
  std::unique_ptr<MetricsServer> server_;
  bool failure_logged_ = false;
};

}  // namespace vmq::service
