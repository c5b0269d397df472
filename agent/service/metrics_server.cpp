#include "service/metrics_server.h"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <exception>
#include <optional>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "service/metrics_exposition.h"
#include "service/metrics_listen_address.h"

namespace vmq::service {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::uint32_t kMaxHeaderBytes = 8 * 1024;
constexpr std::uint64_t kMaxBodyBytes = 4 * 1024;  // a scrape has none; anything else is refused anyway
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);
constexpr const char* kPlainText = "text/plain; charset=utf-8";

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

Response plain(http::status status, unsigned version, std::string body) {
  Response response{status, version};
  response.set(http::field::content_type, kPlainText);
  response.body() = std::move(body);
  return response;
}

Response answer(const Request& request, const MetricsServer::Render& render) {
  const std::string_view target(request.target().data(), request.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  const bool head = request.method() == http::verb::head;
  Response response;
  if (path != "/metrics") {
    response = plain(http::status::not_found, request.version(), "vmqd serves its metrics on /metrics only.\n");
  } else if (request.method() != http::verb::get && !head) {
    response = plain(http::status::method_not_allowed, request.version(), "Use GET to read /metrics.\n");
    response.set(http::field::allow, "GET, HEAD");
  } else {
    try {
      response = plain(http::status::ok, request.version(), render());
      response.set(http::field::content_type, kExpositionContentType);
    } catch (const std::exception& e) {  // a bug or no memory: this scrape fails, vmqd goes on
      response = plain(http::status::internal_server_error, request.version(),
                       fmt::format("vmqd could not render its metrics: {}\n", e.what()));
    }
  }
  response.set(http::field::server, "vmqd");
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  if (head) {
    const auto length = response.body().size();
    response.body().clear();
    response.content_length(length);
  }
  return response;
}

bool is_http_error(const beast::error_code& ec) {
  return ec.category() == beast::error_code(http::error::end_of_stream).category();
}

// One client's connection: requests and answers in turn, each step under its deadline.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<MetricsServer::Shared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)) {}

  void start() { read_request(); }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

 private:
  void read_request();
  void on_request(const beast::error_code& ec);
  void write_response();
  void on_written(const beast::error_code& ec);

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Response response_;
  std::shared_ptr<MetricsServer::Shared> shared_;
};

}  // namespace

struct MetricsServer::Shared {
  Render render;
  MetricsServerLimits limits;
  bool stopped = false;
  std::vector<std::weak_ptr<Connection>> connections;

  std::size_t open_connections() {
    std::erase_if(connections, [](const std::weak_ptr<Connection>& c) { return c.expired(); });
    return connections.size();
  }
};

namespace {

void Connection::read_request() {
  parser_.emplace();
  parser_->header_limit(kMaxHeaderBytes);
  parser_->body_limit(kMaxBodyBytes);
  stream_.expires_after(shared_->limits.read_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](const beast::error_code& ec, std::size_t) { self->on_request(ec); });
}

void Connection::on_request(const beast::error_code& ec) {
  if (shared_->stopped) return close();
  if (ec) {
    // A request Beast could not parse gets a 400; a timeout, a reset or a
    // clean end of the connection just closes it.
    if (!is_http_error(ec) || ec == http::error::end_of_stream || ec == http::error::partial_message) return close();
    response_ = plain(http::status::bad_request, 11, fmt::format("Bad request: {}.\n", ec.message()));
    response_.keep_alive(false);
    response_.prepare_payload();
  } else {
    response_ = answer(parser_->get(), shared_->render);
  }
  write_response();
}

void Connection::write_response() {
  stream_.expires_after(shared_->limits.write_timeout);
  http::async_write(stream_, response_,
                    [self = shared_from_this()](const beast::error_code& ec, std::size_t) { self->on_written(ec); });
}

void Connection::on_written(const beast::error_code& ec) {
  if (ec || shared_->stopped || !response_.keep_alive()) return close();
  read_request();
}

}  // namespace

MetricsServer::MetricsServer(asio::io_context& io, std::shared_ptr<Shared> shared)
    : acceptor_(io), accept_retry_(io), shared_(std::move(shared)) {}

MetricsServer::~MetricsServer() { stop(); }

Result<std::unique_ptr<MetricsServer>> MetricsServer::open(asio::io_context& io, const tcp::endpoint& endpoint,
                                                           Render render, MetricsServerLimits limits) {
  auto shared = std::make_shared<Shared>(Shared{std::move(render), limits, false, {}});
  std::unique_ptr<MetricsServer> server(new MetricsServer(io, std::move(shared)));
  boost::system::error_code ec;
  tcp::acceptor& acceptor = server->acceptor_;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) server->endpoint_ = acceptor.local_endpoint(ec);
  if (ec) return fail_errno(ec.value(), fmt::format("metrics: listening on {}", endpoint_text(endpoint)));
  return server;
}

void MetricsServer::start() { accept(); }

void MetricsServer::stop() {
  if (shared_->stopped) return;
  shared_->stopped = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  accept_retry_.cancel();
  for (const auto& weak : shared_->connections)
    if (auto connection = weak.lock()) connection->close();
  shared_->connections.clear();
}

void MetricsServer::accept() {
  // The handlers hold `shared` and check `stopped` before touching `this`,
  // which stop() (also run by the destructor) sets first.
  acceptor_.async_accept([this, shared = shared_](const boost::system::error_code& ec, tcp::socket socket) {
    if (shared->stopped || ec == asio::error::operation_aborted) return;
    if (ec) {  // out of descriptors, say: retrying at once would spin
      accept_retry_.expires_after(kAcceptRetry);
      accept_retry_.async_wait([this, shared](const boost::system::error_code& wait_error) {
        if (!wait_error && !shared->stopped) accept();
      });
      return;
    }
    if (shared->open_connections() >= shared->limits.max_connections) {
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      auto connection = std::make_shared<Connection>(std::move(socket), shared);
      shared->connections.push_back(connection);
      connection->start();
    }
    accept();
  });
}

}  // namespace vmq::service
