// The /metrics HTTP server on 127.0.0.1 (an ephemeral port), its io_context
// running in a thread as vmqd's does: answers, 404 and 405, keep-alive,
// stalled and surplus clients, malformed requests, stop(), a busy port; and
// MetricsEndpoint's retry when the address is taken, and its reconfiguration.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "service/metrics_endpoint.h"
#include "service/metrics_exposition.h"
#include "service/metrics_server.h"

namespace vmq::service {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr auto kClientTimeout = 5s;
const std::string kBody = "# HELP vmq_test A test.\n# TYPE vmq_test gauge\nvmq_test 1\n";

// A blocking HTTP client whose every wait has a deadline.
class Client {
 public:
  explicit Client(unsigned short port) { stream_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port)); }

  void send(const std::string& raw) { asio::write(stream_.socket(), asio::buffer(raw)); }

  std::optional<http::response<http::string_body>> read_response(bool head = false) {
    http::response_parser<http::string_body> parser;
    parser.skip(head);
    beast::error_code result = asio::error::would_block;
    stream_.expires_after(kClientTimeout);
    http::async_read(stream_, buffer_, parser, [&](const beast::error_code& ec, std::size_t) { result = ec; });
    run();
    last_error = result;
    if (result) return std::nullopt;
    return parser.release();
  }

  std::optional<http::response<http::string_body>> request(const std::string& method, const std::string& target,
                                                           bool keep_alive = false) {
    send(method + " " + target + " HTTP/1.1\r\nHost: test\r\n" + (keep_alive ? "" : "Connection: close\r\n") +
         "\r\n");
    return read_response(method == "HEAD");
  }

  // Whether the server closes the connection within `timeout`, without sending anything.
  bool closed_by_server(std::chrono::milliseconds timeout) {
    char byte = 0;
    beast::error_code result = asio::error::would_block;
    stream_.expires_after(timeout);
    stream_.async_read_some(asio::buffer(&byte, 1), [&](const beast::error_code& ec, std::size_t) { result = ec; });
    run();
    return result == asio::error::eof || result == asio::error::connection_reset;
  }

  beast::error_code last_error;

 private:
  void run() {
    io_.restart();
    io_.run();
  }

  asio::io_context io_;
  beast::tcp_stream stream_{io_};
  beast::flat_buffer buffer_;
};

class MetricsServerTest : public ::testing::Test {
 protected:
  ~MetricsServerTest() override { stop_io(); }

  void serve(MetricsServerLimits limits = {}) {
    auto server = MetricsServer::open(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
                                      [this] {
                                        ++renders;
                                        if (throw_in_render) throw std::runtime_error("boom");
                                        return kBody;
                                      },
                                      limits);
    ASSERT_TRUE(server) << server.error().message;
    server_ = std::move(*server);
    port = server_->local_endpoint().port();
    server_->start();
    io_thread = std::thread([this] { io.run(); });
  }

  // Runs `f` on the io_context's thread and waits for it.
  void on_io_thread(std::function<void()> f) {
    std::promise<void> done;
    asio::post(io, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  void stop_io() {
    if (!io_thread.joinable()) return;
    on_io_thread([this] { server_.reset(); });
    work.reset();
    io.stop();
    io_thread.join();
  }

  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work{io.get_executor()};
  std::unique_ptr<MetricsServer> server_;
  std::thread io_thread;
  unsigned short port = 0;
  std::atomic<int> renders{0};
  std::atomic<bool> throw_in_render{false};
};

TEST_F(MetricsServerTest, GetMetricsAnswersTheExpositionWithItsContentType) {
  serve();
  Client client(port);
  auto response = client.request("GET", "/metrics");
  ASSERT_TRUE(response) << client.last_error.message();
  EXPECT_EQ(response->result(), http::status::ok);
  EXPECT_EQ(response->at(http::field::content_type), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(response->body(), kBody);
  EXPECT_EQ(response->at(http::field::content_length), std::to_string(kBody.size()));
  EXPECT_EQ(renders, 1);
  EXPECT_TRUE(client.closed_by_server(2000ms)) << "Connection: close was not honoured";
}

TEST_F(MetricsServerTest, AQueryStringIsIgnored) {
  serve();
  Client client(port);
  auto response = client.request("GET", "/metrics?name[]=vmq_queues");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result(), http::status::ok);
}

TEST_F(MetricsServerTest, OtherPathsAreNotFound) {
  serve();
  for (const char* target : {"/", "/metrics/", "/metricsx", "/favicon.ico", "/../metrics"}) {
    Client client(port);
    auto response = client.request("GET", target);
    ASSERT_TRUE(response) << target;
    EXPECT_EQ(response->result(), http::status::not_found) << target;
    EXPECT_EQ(response->at(http::field::content_type), "text/plain; charset=utf-8");
  }
  EXPECT_EQ(renders, 0);
}

TEST_F(MetricsServerTest, OtherMethodsAreNotAllowedAndSayWhichAre) {
  serve();
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"}) {
    Client client(port);
    auto response = client.request(method, "/metrics");
    ASSERT_TRUE(response) << method;
    EXPECT_EQ(response->result(), http::status::method_not_allowed) << method;
    EXPECT_EQ(response->at(http::field::allow), "GET, HEAD") << method;
  }
  EXPECT_EQ(renders, 0);
}

TEST_F(MetricsServerTest, HeadGivesTheLengthWithoutTheBody) {
  serve();
  Client client(port);
  auto response = client.request("HEAD", "/metrics", true);
  ASSERT_TRUE(response) << client.last_error.message();
  EXPECT_EQ(response->result(), http::status::ok);
  EXPECT_EQ(response->at(http::field::content_length), std::to_string(kBody.size()));
  EXPECT_EQ(response->body(), "");
  // The connection is still in step: the next answer is whole.
  auto next = client.request("GET", "/metrics");
  ASSERT_TRUE(next) << client.last_error.message();
  EXPECT_EQ(next->body(), kBody);
}

TEST_F(MetricsServerTest, KeepAliveServesSeveralScrapesOnOneConnection) {
  serve();
  Client client(port);
  for (int i = 0; i < 5; ++i) {
    auto response = client.request("GET", "/metrics", true);
    ASSERT_TRUE(response) << "scrape " << i << ": " << client.last_error.message();
    EXPECT_EQ(response->body(), kBody);
    EXPECT_TRUE(response->keep_alive());
  }
  EXPECT_EQ(renders, 5);
}

TEST_F(MetricsServerTest, AStalledClientIsClosedAndDoesNotDelayOthers) {
  MetricsServerLimits limits;
  limits.read_timeout = 2s;
  serve(limits);
  Client stalled(port);
  stalled.send("GET /metr");  // and nothing more
  const auto start = std::chrono::steady_clock::now();
  Client other(port);
  auto response = other.request("GET", "/metrics");
  ASSERT_TRUE(response) << other.last_error.message();
  EXPECT_EQ(response->result(), http::status::ok);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms) << "the other client waited for the stalled one";
  EXPECT_TRUE(stalled.closed_by_server(5000ms)) << "the stalled connection was not closed after its read timeout";
}

TEST_F(MetricsServerTest, AnIdleKeptAliveConnectionIsClosedAfterTheReadTimeout) {
  MetricsServerLimits limits;
  limits.read_timeout = 300ms;
  serve(limits);
  Client client(port);
  ASSERT_TRUE(client.request("GET", "/metrics", true));
  EXPECT_TRUE(client.closed_by_server(3000ms));
}

TEST_F(MetricsServerTest, MalformedRequestsGetBadRequestAndAClose) {
  serve();
  for (const std::string& raw : {std::string("NOT HTTP AT ALL\r\n\r\n"), std::string("GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n"),
                                "GET /metrics HTTP/1.1\r\nHost: x\r\nX: " + std::string(10000, 'a') + "\r\n\r\n"}) {
    Client client(port);
    client.send(raw);
    auto response = client.read_response();
    ASSERT_TRUE(response) << raw.substr(0, 40) << ": " << client.last_error.message();
    EXPECT_EQ(response->result(), http::status::bad_request) << raw.substr(0, 40);
    EXPECT_FALSE(response->keep_alive());
    EXPECT_TRUE(client.closed_by_server(2000ms));
  }
  EXPECT_EQ(renders, 0);
}

TEST_F(MetricsServerTest, ARequestBodyBeyondTheLimitIsRefused) {
  serve();
  Client client(port);
  client.send("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n" + std::string(20000, 'x'));
  auto response = client.read_response();
  ASSERT_TRUE(response) << client.last_error.message();
  EXPECT_EQ(response->result(), http::status::bad_request);
}

TEST_F(MetricsServerTest, SurplusConnectionsAreClosedAtOnceAndServedOnceOthersLeave) {
  MetricsServerLimits limits;
  limits.max_connections = 2;
  serve(limits);
  std::vector<std::unique_ptr<Client>> held;
  for (int i = 0; i < 2; ++i) {  // a full exchange proves each one was accepted and is open
    held.push_back(std::make_unique<Client>(port));
    ASSERT_TRUE(held.back()->request("GET", "/metrics", true));
  }
  Client surplus(port);
  EXPECT_TRUE(surplus.closed_by_server(2000ms));
  held.pop_back();
  // The server notices the departure on its own thread: try again for a bounded time.
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    Client late(port);
    auto response = late.request("GET", "/metrics");
    served = response && response->result() == http::status::ok;
    if (!served) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(served);
}

TEST_F(MetricsServerTest, StopClosesTheListenerAndEveryConnection) {
  serve();
  Client client(port);
  ASSERT_TRUE(client.request("GET", "/metrics", true));
  on_io_thread([this] { server_->stop(); });
  EXPECT_TRUE(client.closed_by_server(2000ms));
  asio::io_context probe;
  tcp::socket socket(probe);
  beast::error_code ec;
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  EXPECT_EQ(ec, asio::error::connection_refused);
}

TEST_F(MetricsServerTest, ARenderThatThrowsCostsOneScrape) {
  serve();
  throw_in_render = true;
  Client failing(port);
  auto response = failing.request("GET", "/metrics");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result(), http::status::internal_server_error);
  EXPECT_NE(response->body().find("boom"), std::string::npos);
  throw_in_render = false;
  Client next(port);
  response = next.request("GET", "/metrics");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result(), http::status::ok);
}

TEST(MetricsServer, ABusyAddressIsAnErrorNamingIt) {
  asio::io_context io;
  tcp::acceptor taken(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto endpoint = taken.local_endpoint();
  auto server = MetricsServer::open(io, endpoint, [] { return std::string(); });
  ASSERT_FALSE(server);
  EXPECT_EQ(server.error().sys_errno, EADDRINUSE);
  EXPECT_EQ(server.error().message.rfind("metrics: listening on 127.0.0.1:" + std::to_string(endpoint.port()) + ": ", 0),
            0u)
      << server.error().message;
}

// MetricsEndpoint, driven on this thread with run_for: a taken address is
// logged once and retried, a new address moves the listener, "" turns it off.
class MetricsEndpointTest : public ::testing::Test {
 protected:
  MetricsEndpointTest()
      : endpoint(io, [] { return kBody; },
                 [this](LogLevel level, std::string_view message) {
                   std::lock_guard lock(mutex);
                   log.emplace_back(level, std::string(message));
                 },
                 50ms) {}

  std::vector<std::pair<LogLevel, std::string>> log_lines() {
    std::lock_guard lock(mutex);
    return log;
  }

  // Whether GET /metrics on `port` answers, letting the endpoint's io_context run meanwhile.
  bool answers(unsigned short port) {
    std::atomic<bool> done{false};
    std::optional<http::status> status;
    std::thread client([&] {
      try {
        Client c(port);
        if (auto response = c.request("GET", "/metrics")) status = response->result();
      } catch (const std::exception&) {  // refused
      }
      done = true;
    });
    for (int i = 0; i < 500 && !done; ++i) io.run_for(10ms);
    client.join();
    return status == http::status::ok;
  }

  static unsigned short free_port() {
    asio::io_context probe;
    tcp::acceptor a(probe, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return a.local_endpoint().port();
  }

  asio::io_context io;
  std::mutex mutex;
  std::vector<std::pair<LogLevel, std::string>> log;
  MetricsEndpoint endpoint;
};

TEST_F(MetricsEndpointTest, ATakenAddressIsLoggedOnceAndRetriedUntilItIsFree) {
  auto taken = std::make_unique<tcp::acceptor>(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const unsigned short port = taken->local_endpoint().port();
  endpoint.configure("127.0.0.1:" + std::to_string(port));
  io.run_for(300ms);  // several retries
  auto lines = log_lines();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0].first, LogLevel::error);
  EXPECT_NE(lines[0].second.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << lines[0].second;
  EXPECT_NE(lines[0].second.find("vmqd runs on without /metrics"), std::string::npos) << lines[0].second;
  for (std::size_t i = 1; i < lines.size(); ++i) EXPECT_EQ(lines[i].first, LogLevel::debug) << lines[i].second;
  EXPECT_GE(lines.size(), 2u) << "no retry within 300 ms";

  taken.reset();
  bool served = false;
  for (int i = 0; i < 20 && !served; ++i) served = answers(port);
  EXPECT_TRUE(served);
  EXPECT_NE(log_lines().back().second.find("metrics: serving http://127.0.0.1:" + std::to_string(port) + "/metrics"),
            std::string::npos);
}

TEST_F(MetricsEndpointTest, ReconfiguringMovesTheListenerAndEmptyTurnsItOff) {
  const unsigned short first = free_port();
  endpoint.configure("127.0.0.1:" + std::to_string(first));
  EXPECT_TRUE(answers(first));
  const unsigned short second = free_port();
  endpoint.configure("127.0.0.1:" + std::to_string(second));
  EXPECT_TRUE(answers(second));
  EXPECT_FALSE(answers(first));
  endpoint.configure("");
  EXPECT_FALSE(answers(second));
  EXPECT_EQ(log_lines().back().second, "metrics: off");
}

}  // namespace
}  // namespace vmq::service
