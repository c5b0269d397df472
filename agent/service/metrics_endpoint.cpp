#include "service/metrics_endpoint.h"

#include <fmt/format.h>

#include "service/metrics_listen_address.h"

namespace vmq::service {

MetricsEndpoint::MetricsEndpoint(boost::asio::io_context& io, MetricsServer::Render render, LogSink log,
                                 std::chrono::milliseconds retry_period)
    : render_(std::move(render)), log_(std::move(log)), io_(io), retry_period_(retry_period), retry_(io) {}

void MetricsEndpoint::configure(const std::string& listen) {
  if (listen == listen_) return;
  const bool was_on = !listen_.empty();
  stop();
  listen_ = listen;
  if (!listen_.empty()) {
    try_listen();
  } else if (was_on) {
    log_(LogLevel::notice, "metrics: off");
  }
}

void MetricsEndpoint::stop() {
  retry_.cancel();
  server_.reset();
  failure_logged_ = false;
}

void MetricsEndpoint::try_listen() {
  auto endpoint = parse_listen_address(listen_);
  if (!endpoint) {  // the configuration was validated: only a bug gets here
    log_(LogLevel::error, fmt::format("metrics: {}", endpoint.error().message));
    return;
  }
  auto server = MetricsServer::open(io_, *endpoint, render_);
  if (!server) {
    // Logged once as an error, then quietly retried until it works.
    log_(failure_logged_ ? LogLevel::debug : LogLevel::error,
         fmt::format("{}; vmqd runs on without /metrics and tries again every {} ms", server.error().message,
                     retry_period_.count()));
    failure_logged_ = true;
    retry_.expires_after(retry_period_);
    retry_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) try_listen();
    });
    return;
  }
  server_ = std::move(*server);
  server_->start();
  log_(LogLevel::notice, fmt::format("metrics: serving http://{}/metrics", endpoint_text(server_->local_endpoint())));
  failure_logged_ = false;
}

}  // namespace vmq::service
