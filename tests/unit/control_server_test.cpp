// The control server on a real Unix socket in a temporary directory, its
// io_context running in a thread: framing, malformed and oversized requests,
// stalled clients, the socket file's life cycle and mode, and who may connect.
#include <gtest/gtest.h>

#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstdlib>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "api/client.h"
#include "os/serviced_queue.h"
#include "os/worker.h"
#include "service/control_server.h"
#include "unit/fake_dataplane.h"
#include "unit/service_temp_dir.h"

namespace vmq::service {
namespace {

namespace asio = boost::asio;
using api::json;
using namespace std::chrono_literals;

constexpr const char* kNoSuchGroup = "vmq-test-no-such-group";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

sockaddr_un address_of(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw std::runtime_error("socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

// A client that speaks bytes, not requests: for what vmq::api::Client cannot send.
class RawClient {
 public:
  explicit RawClient(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_un addr = address_of(path);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) connect_errno_ = errno;
  }
  ~RawClient() { close(); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connect_errno_ == 0; }
  int connect_errno() const { return connect_errno_; }
  // Tells the server that nothing more will be sent (EOF on its side).
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Sends until done or the first error; returns the bytes sent.
  std::size_t send(std::string_view data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    return sent;
  }

  // The next line without its newline; nullopt at EOF, on error or timeout.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      if (!fill(deadline)) return std::nullopt;
    }
  }

  // True if the server closes the connection (EOF or reset) before `timeout`;
  // whatever it sends first is dropped.
  bool closed_by_server(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (fill(deadline)) buffer_.clear();
    return eof_;
  }

 private:
  // Reads what is available before the deadline; false at EOF, error, timeout.
  bool fill(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) return true;
    if (ready <= 0) return false;
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) return true;
    if (n <= 0) {
      eof_ = n == 0 || errno == ECONNRESET;
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  int connect_errno_ = 0;
  bool eof_ = false;
  std::string buffer_;
};

api::Reply decoded(const std::optional<std::string>& line) {
  if (!line) {
    ADD_FAILURE() << "no reply line";
    return api::Reply{0, {}, Error{Errc::system, "no reply"}};
  }
  auto reply = api::decode_reply(*line);
  if (!reply) {
    ADD_FAILURE() << "undecodable reply: " << *line << ": " << reply.error().message;
    return api::Reply{0, {}, Error{Errc::system, "undecodable"}};
  }
  return *reply;
}

class ControlServerTest : public ::testing::Test {
 protected:
  ControlServerTest()
      : manager(limits(), Placement({}, {0, 1}), dp),
        control(manager, dp, dp, AgentInfo{"9.8.7", "host-a", std::chrono::steady_clock::now()},
                [] { return Result<void>{}; }, OperationTiming{.port_retry_limit = std::chrono::seconds(30)}) {}
  ~ControlServerTest() override { stop_io(); }

  // Drains (and retries of a held port) end when a test lets them, well
  // before their limit.
  static QueueLimits limits() {
    QueueLimits l;
    l.drain_timeout = std::chrono::seconds(30);
    return l;
  }

  // In a directory open() has to create.
  std::string socket_path() const { return dir.file("run/vmqd.sock"); }

  LogSink sink() {
    return [this](LogLevel level, std::string_view message) {
      std::lock_guard lock(log_mutex);
      if (message.find("control socket: accept:") != std::string_view::npos) {
        accept_errors.push_back(std::chrono::steady_clock::now());
        accept_error_logged.notify_all();
      }
      if (logs.size() < 1000) logs.push_back(fmt::format("{}: {}", static_cast<int>(level), message));
    };
  }
  std::vector<std::string> log_lines() {
    std::lock_guard lock(log_mutex);
    return logs;
  }
  // When the server warned that an accept failed.
  std::vector<std::chrono::steady_clock::time_point> accept_error_times() {
    std::lock_guard lock(log_mutex);
    return accept_errors;
  }
  // Until the server has warned `count` times about failed accepts; false after `timeout`.
  bool wait_for_accept_errors(std::size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(log_mutex);
    return accept_error_logged.wait_for(lock, timeout, [&] { return accept_errors.size() >= count; });
  }
  // CPU time used so far by the thread that runs the server.
  std::chrono::nanoseconds io_thread_cpu_time() {
    clockid_t clock{};
    timespec ts{};
    const int rc = ::pthread_getcpuclockid(io_thread.native_handle(), &clock);
    if (rc != 0 || ::clock_gettime(clock, &ts) != 0) {
      ADD_FAILURE() << "reading the server thread's CPU clock: " << std::strerror(rc != 0 ? rc : errno);
      return {};
    }
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
  }

  // Opens and starts the server, then runs the io_context in a thread.
  void start(const std::string& group = kNoSuchGroup) {
    auto opened = ControlServer::open(io, socket_path(), group, control, sink());
    ASSERT_TRUE(opened) << opened.error().message;
    server = std::move(*opened);
    server->start();
    io_thread = std::thread([this] { io.run(); });
  }
  void stop_io() {
    if (!io_thread.joinable()) return;
    work.reset();
    io.stop();
    io_thread.join();
  }
  // Runs `f` on the server's thread and waits for it.
  template <typename F>
  void on_io(F f) {
    std::promise<void> done;
    asio::post(io, [&] {
      f();
      done.set_value();
    });
    ASSERT_EQ(done.get_future().wait_for(10s), std::future_status::ready);
  }

  test::TempDir dir;
  test::FakeDataplane dp;
  QueueManager manager;
  ControlApi control;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::unique_ptr<ControlServer> server;
  std::thread io_thread;
  std::mutex log_mutex;
  std::vector<std::string> logs;
  std::condition_variable accept_error_logged;
  std::vector<std::chrono::steady_clock::time_point> accept_errors;  // under log_mutex
};

TEST_F(ControlServerTest, RequestResponseRoundTrip) {
  start();
  api::Client client(socket_path(), 5s);
  auto status = client.call("status");
  ASSERT_TRUE(status) << status.error().error.message;
  EXPECT_EQ(status->at("version"), "9.8.7");
  EXPECT_EQ(status->at("queues"), 0);

  auto added = client.call("queue.add", {{"name", "web1"},
                                         {"uplink", "uplink0"},
                                         {"port", "port1"},
                                         {"filters", json::array({{{"mac", "52:54:00:aa:bb:cc"}}})}});
  ASSERT_TRUE(added) << added.error().error.message;
  EXPECT_EQ(added->at("state"), "running");

  auto missing = client.call("queue.show", {{"queue", "nope"}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, api::CallFailure::refused);
  EXPECT_EQ(missing.error().error.code, Errc::not_found);
  EXPECT_EQ(missing.error().error.message, "no queue named 'nope'");

  // The same connection keeps serving.
  auto list = client.call("queue.list");
  ASSERT_TRUE(list) << list.error().error.message;
  EXPECT_EQ(list->at("queues").size(), 1u);
}

TEST_F(ControlServerTest, RepliesCarryTheRequestId) {
  start();
  RawClient raw(socket_path());
  ASSERT_TRUE(raw.connected()) << std::strerror(raw.connect_errno());
  raw.send(api::encode(api::Request{123456789012345ull, "status", json::object()}));
  const auto reply = decoded(raw.read_line());
  EXPECT_EQ(reply.id, 123456789012345ull);
  EXPECT_FALSE(reply.error);
}

TEST_F(ControlServerTest, MalformedRequestsGetErrorsAndTheConnectionGoesOn) {
  start();
  RawClient raw(socket_path());
  ASSERT_TRUE(raw.connected()) << std::strerror(raw.connect_errno());

  raw.send("this is not json\n");
  auto reply = decoded(raw.read_line());
  ASSERT_TRUE(reply.error);
  EXPECT_EQ(reply.error->code, Errc::protocol);
  EXPECT_EQ(reply.error->message, "the request is not valid JSON");
  EXPECT_EQ(reply.id, 0u);

  raw.send(R"({"vmq":2,"id":5,"method":"status"})" "\n");
  reply = decoded(raw.read_line());
  ASSERT_TRUE(reply.error);
  EXPECT_EQ(reply.error->code, Errc::protocol);
  EXPECT_EQ(reply.error->message, "protocol version 2 is not supported (this side speaks 1)");
  EXPECT_EQ(reply.id, 5u) << "the id is echoed when it could be read";

  raw.send(R"({"vmq":1,"id":6,"method":"no.such.method"})" "\n");
  reply = decoded(raw.read_line());
  ASSERT_TRUE(reply.error);
  EXPECT_EQ(reply.error->code, Errc::protocol);
  EXPECT_EQ(reply.id, 6u);

  raw.send("\n");  // an empty line is not a request either
  reply = decoded(raw.read_line());
  ASSERT_TRUE(reply.error);
  EXPECT_EQ(reply.error->code, Errc::protocol);

  raw.send(R"({"vmq":1,"id":7,"method":"status"})" "\n");
  reply = decoded(raw.read_line());
  EXPECT_FALSE(reply.error) << reply.error->message;
  EXPECT_EQ(reply.id, 7u);
  EXPECT_EQ(reply.result.at("host_id"), "host-a");
}

TEST_F(ControlServerTest, PipelinedAndSplitRequestsAreFramedByNewlines) {
  start();
  RawClient raw(socket_path());
  ASSERT_TRUE(raw.connected());
  raw.send(api::encode(api::Request{1, "status", json::object()}) + api::encode(api::Request{2, "caps", json::object()}));
  auto first = decoded(raw.read_line());
  auto second = decoded(raw.read_line());
  EXPECT_EQ(first.id, 1u);
  EXPECT_TRUE(first.result.contains("uptime_seconds"));
  EXPECT_EQ(second.id, 2u);
  EXPECT_TRUE(second.result.contains("filter_fields"));

  const std::string request = api::encode(api::Request{3, "queue.list", json::object()});
  raw.send(request.substr(0, 10));
  EXPECT_FALSE(raw.read_line(200ms)) << "no reply before the line is complete";
  raw.send(request.substr(10));
  auto third = decoded(raw.read_line());
  EXPECT_EQ(third.id, 3u);
  EXPECT_EQ(third.result, json({{"queues", json::array()}}));
}

TEST_F(ControlServerTest, RequestOfExactlyTheLimitIsServed) {
  start();
  RawClient raw(socket_path());
  ASSERT_TRUE(raw.connected());
  const std::string head = R"({"vmq":1,"id":11,"method":"status"})";
  const std::string line = head + std::string(api::kMaxMessageBytes - head.size(), ' ') + "\n";
  ASSERT_EQ(line.size(), api::kMaxMessageBytes + 1);
  ASSERT_EQ(raw.send(line), line.size());
  auto reply = decoded(raw.read_line());
  EXPECT_EQ(reply.id, 11u);
  EXPECT_FALSE(reply.error) << reply.error->message;
}

TEST_F(ControlServerTest, OversizedLineGetsAProtocolErrorAndTheConnectionCloses) {
  start();
  {
    RawClient raw(socket_path());
    ASSERT_TRUE(raw.connected());
    // No newline within the limit: the server gives up after kMaxMessageBytes + 1
    // bytes and may close while we are still sending.
    raw.send(std::string(api::kMaxMessageBytes + 2, 'x'));
    auto reply = decoded(raw.read_line());
    ASSERT_TRUE(reply.error);
    EXPECT_EQ(reply.error->code, Errc::protocol);
    EXPECT_EQ(reply.error->message, "request longer than 1048576 bytes");
    EXPECT_TRUE(raw.closed_by_server()) << "the connection must be closed after an oversized request";
  }
  {
    // A long line that does end, followed by more: still refused and closed.
    RawClient raw(socket_path());
    ASSERT_TRUE(raw.connected());
    const std::string head = R"({"vmq":1,"id":12,"method":"status"})";
    raw.send(head + std::string(api::kMaxMessageBytes, ' ') + "\n");
    auto reply = decoded(raw.read_line());
    ASSERT_TRUE(reply.error);
    EXPECT_EQ(reply.error->code, Errc::protocol);
    EXPECT_TRUE(raw.closed_by_server());
  }
  // The server still serves new clients.
  api::Client client(socket_path(), 5s);
  auto status = client.call("status");
  EXPECT_TRUE(status) << status.error().error.message;
}

TEST_F(ControlServerTest, SilentClientDoesNotBlockOthers) {
  start();
  RawClient silent(socket_path());
  ASSERT_TRUE(silent.connected());
  RawClient half(socket_path());  // stuck in the middle of a request
  ASSERT_TRUE(half.connected());
  half.send(R"({"vmq":1,"id":1,"met)");

  const auto started = std::chrono::steady_clock::now();
  api::Client client(socket_path(), 5s);
  for (int i = 0; i < 3; ++i) {
    auto status = client.call("status");
    ASSERT_TRUE(status) << status.error().error.message;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);

  // The stalled ones are still connected (the idle limit is far away), and
  // the half-sent request completes.
  EXPECT_FALSE(silent.closed_by_server(100ms));
  half.send(R"(hod":"status"})" "\n");
  auto reply = decoded(half.read_line());
  EXPECT_EQ(reply.id, 1u);
  EXPECT_FALSE(reply.error);
}

TEST_F(ControlServerTest, ClientsThatVanishDoNotHurtTheServer) {
  start();
  {
    RawClient gone(socket_path());
    ASSERT_TRUE(gone.connected());
    gone.send(R"({"vmq":1,"id":1,"method":"status"})" "\n");
  }  // closed before reading its reply: the server's write fails (EPIPE), not the process
  {
    RawClient partial(socket_path());
    ASSERT_TRUE(partial.connected());
    partial.send(R"({"vmq":1,"id":1,)");
  }
  for (int i = 0; i < 20; ++i) {
    RawClient burst(socket_path());
    ASSERT_TRUE(burst.connected());
    burst.send(api::encode(api::Request{1, "stats", json::object()}));
  }
  api::Client client(socket_path(), 5s);
  auto status = client.call("status");
  EXPECT_TRUE(status) << status.error().error.message;
}

TEST_F(ControlServerTest, TooManyConnectionsAreTurnedAwayUntilOneCloses) {
  start();
  constexpr int kLimit = 64;  // kMaxSessions in control_server.cpp
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < kLimit; ++i) {
    auto c = std::make_unique<RawClient>(socket_path());
    ASSERT_TRUE(c->connected()) << i;
    c->send(api::encode(api::Request{static_cast<std::uint64_t>(i), "status", json::object()}));
    auto reply = decoded(c->read_line());
    ASSERT_FALSE(reply.error) << i << ": " << reply.error->message;  // being served
    held.push_back(std::move(c));
  }
  RawClient extra(socket_path());
  ASSERT_TRUE(extra.connected());
  auto busy = decoded(extra.read_line());
  ASSERT_TRUE(busy.error);
  EXPECT_EQ(busy.error->code, Errc::limit_reached);
  EXPECT_EQ(busy.error->message, "too many control connections; try again");
  EXPECT_TRUE(extra.closed_by_server());

  // One client leaves. The server closes its end once it has seen the EOF, on its only thread, in the same step
  // that ends the session: when this client sees the close, the session no longer counts.
  held.back()->shutdown_write();
  EXPECT_TRUE(held.back()->closed_by_server());
  held.pop_back();
  api::Client client(socket_path(), 5s);
  auto served = client.call("status");
  EXPECT_TRUE(served) << served.error().error.message;
}

// ---- requests that wait ----------------------------------------------------

json web_queue(const std::string& name, const std::string& port, const char* mac) {
  return {{"name", name}, {"uplink", "uplink0"}, {"port", port}, {"filters", json::array({{{"mac", mac}}})}};
}

// Until `queue` shows `state`, asking on `client`'s connection: every answer
// is a request served meanwhile.
bool shows_state(api::Client& client, const std::string& queue, const std::string& state) {
  for (int i = 0; i < 1000; ++i) {
    auto shown = client.call("queue.show", {{"queue", queue}});
    if (shown && shown->at("state") == state) return true;
  }
  return false;
}

constexpr const char* kBusyFreeing =
    "queue web1: busy: another request is freeing it (its frames are being delivered to its port); try again once "
    "it has been answered";

TEST_F(ControlServerTest, ARequestAwaitingADrainDoesNotHoldUpOtherConnections) {
  start();
  api::Client other(socket_path(), 5s);
  ASSERT_TRUE(other.call("queue.add", web_queue("web1", "port1", "52:54:00:aa:bb:01")));
  ASSERT_TRUE(other.call("queue.add", web_queue("web2", "port2", "52:54:00:aa:bb:02")));
  on_io([&] { dp.probes_before_empty = -1; });  // web1's rings stay busy until the test empties them

  RawClient deleting(socket_path());
  ASSERT_TRUE(deleting.connected());
  deleting.send(api::encode(api::Request{7, "queue.del", {{"queue", "web1"}}}));
  ASSERT_TRUE(shows_state(other, "web1", "dma-stopped")) << "the drain did not start";

  // Served while web1 drains: reads, and changes to other queues.
  auto status = other.call("status");
  ASSERT_TRUE(status) << status.error().error.message;
  EXPECT_EQ(status->at("queues"), 2);
  auto changed = other.call("queue.set", {{"queue", "web2"}, {"vm", "vm-2"}});
  EXPECT_TRUE(changed) << changed.error().error.message;
  // Refused, saying why: anything else that would change web1.
  for (const auto& [method, params] : std::vector<std::pair<std::string, json>>{
           {"filter.add", {{"queue", "web1"}, {"mac", "52:54:00:aa:bb:03"}}},
           {"queue.del", {{"queue", "web1"}}},
           {"queue.pause", {{"queue", "web1"}}},
           {"migrate.drain", {{"queue", "web1"}}}}) {
    auto refused = other.call(method, params);
    ASSERT_FALSE(refused) << method;
    EXPECT_EQ(refused.error().error.code, Errc::invalid_state) << method;
    EXPECT_EQ(refused.error().error.message, kBusyFreeing) << method;
  }
  EXPECT_FALSE(deleting.read_line(20ms)) << "queue.del answered before its drain was over";

  on_io([&] {
    dp.frames_in_ring = 3;
    dp.probes_before_empty = 0;
  });
  const auto reply = decoded(deleting.read_line());
  EXPECT_EQ(reply.id, 7u);
  ASSERT_FALSE(reply.error) << reply.error->message;
  EXPECT_EQ(reply.result.at("name"), "web1");
  EXPECT_EQ(reply.result.at("drained_frames"), 3);
  status = other.call("status");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->at("queues"), 1);
}

TEST_F(ControlServerTest, ARequestWaitingForAHeldPortDoesNotHoldUpOtherConnections) {
  start();
  on_io([&] { dp.port_busy_starts = -1; });
  RawClient adding(socket_path());
  ASSERT_TRUE(adding.connected());
  adding.send(api::encode(api::Request{9, "queue.add", web_queue("web1", "port1", "52:54:00:aa:bb:01")}));
  api::Client other(socket_path(), 5s);
  ASSERT_TRUE(shows_state(other, "web1", "set")) << "the queue was not allocated";
  auto refused = other.call("queue.del", {{"queue", "web1"}});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().error.message,
            "queue web1: busy: another request is starting it; try again once it has been answered");
  auto status = other.call("status");
  ASSERT_TRUE(status) << status.error().error.message;
  EXPECT_FALSE(adding.read_line(20ms)) << "queue.add answered while its port was held";

  on_io([&] { dp.port_busy_starts = 0; });
  const auto reply = decoded(adding.read_line());
  EXPECT_EQ(reply.id, 9u);
  ASSERT_FALSE(reply.error) << reply.error->message;
  EXPECT_EQ(reply.result.at("state"), "running");
}

asio::awaitable<void> note_when_answered(ControlServer& server, std::atomic<bool>& answered) {
  co_await server.wait_until_answered(30s);
  answered = true;
}

TEST_F(ControlServerTest, StopClosesIdleConnectionsAndLetsARequestUnderWayBeAnswered) {
  start();
  api::Client other(socket_path(), 5s);
  ASSERT_TRUE(other.call("queue.add", web_queue("web1", "port1", "52:54:00:aa:bb:01")));
  on_io([&] { dp.probes_before_empty = -1; });
  RawClient deleting(socket_path());
  ASSERT_TRUE(deleting.connected());
  deleting.send(api::encode(api::Request{8, "queue.del", {{"queue", "web1"}}}));
  ASSERT_TRUE(shows_state(other, "web1", "dma-stopped"));
  RawClient idle(socket_path());
  ASSERT_TRUE(idle.connected());
  idle.send(api::encode(api::Request{1, "status", json::object()}));
  ASSERT_FALSE(decoded(idle.read_line()).error);

  std::atomic<bool> answered{false};
  on_io([&] {
    server->stop();
    asio::co_spawn(io, note_when_answered(*server, answered), asio::detached);
  });
  EXPECT_TRUE(idle.closed_by_server()) << "a connection waiting for a request is closed at stop";
  EXPECT_FALSE(answered);

  on_io([&] { dp.probes_before_empty = 0; });
  const auto reply = decoded(deleting.read_line());
  EXPECT_EQ(reply.id, 8u);
  EXPECT_FALSE(reply.error) << reply.error->message;
  EXPECT_TRUE(deleting.closed_by_server()) << "after its answer, the connection ends";
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!answered && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(answered);
}

// ---- a worker that does not answer -------------------------------------------

// Which queues a worker may touch; one it serves after it was freed is
// counted (and caught by AddressSanitizer in the sanitizer build).
struct Liveness {
  std::mutex lock;
  std::set<const void*> alive;
  std::atomic<int> serviced_after_free{0};
};

// A queue a real worker serves; hold() makes its next service() call keep
// the worker (which then takes no command) until release().
class TrackedQueue final : public os::ServicedQueue {
 public:
  explicit TrackedQueue(Liveness& liveness) : liveness_(liveness) {
    std::lock_guard lock(liveness_.lock);
    liveness_.alive.insert(this);
  }
  ~TrackedQueue() override {
    std::lock_guard lock(liveness_.lock);
    liveness_.alive.erase(this);
  }
  os::ServiceRound service() override {
    {
      std::lock_guard lock(liveness_.lock);
      if (!liveness_.alive.contains(this)) {
        ++liveness_.serviced_after_free;
        return {};
      }
    }
    ++services;
    std::unique_lock lock(gate_lock_);
    if (hold_) {
      held_ = true;
      gate_.notify_all();
      gate_.wait_for(lock, 30s, [this] { return !hold_; });  // bounded, whatever the test does
      held_ = false;
    }
    return {};
  }
  std::vector<int> poll_fds() const override { return {}; }
  bool awaiting_port() const override { return false; }
  void set_worker_tid(int) override {}

  bool hold() {
    std::unique_lock lock(gate_lock_);
    hold_ = true;
    return gate_.wait_for(lock, 5s, [this] { return held_; });
  }
  void release() {
    std::lock_guard lock(gate_lock_);
    hold_ = false;
    gate_.notify_all();
  }
  std::atomic<unsigned> services{0};

 private:
  Liveness& liveness_;
  std::mutex gate_lock_;
  std::condition_variable gate_;
  bool hold_ = false, held_ = false;
};

Result<void> settle(os::Worker& worker, Result<os::Worker::Ticket> posted) {
  if (!posted) return std::unexpected(posted.error());
  for (auto settled = worker.settled(*posted);; settled = worker.settled(*posted)) {
    if (!settled) return std::unexpected(settled.error());
    if (*settled) return {};
    std::this_thread::sleep_for(1ms);
  }
}

TEST_F(ControlServerTest, AWorkerThatDoesNotAnswerHoldsUpOnlyItsRequestAndItsCommandIsTakenBack) {
  auto started = os::Worker::start(0, 3000ms);
  ASSERT_TRUE(started) << started.error().message;
  std::unique_ptr<os::Worker> worker = std::move(*started);
  Liveness liveness;
  TrackedQueue busy(liveness);
  ASSERT_TRUE(settle(*worker, worker->post_add(&busy)));
  ASSERT_TRUE(busy.hold()) << "the worker did not serve the queue that holds it";

  // The dataplane's side of starting web1: its path goes to the worker.
  std::unique_ptr<TrackedQueue> path;
  std::optional<os::Worker::Ticket> ticket;
  dp.on_start = [&](const QueueSpec&) -> Result<void> {
    path = std::make_unique<TrackedQueue>(liveness);
    auto posted = worker->post_add(path.get());
    if (!posted) return std::unexpected(posted.error());
    ticket.emplace(std::move(*posted));
    return {};
  };
  dp.on_settle = [&](QueueId id) -> Result<bool> {
    if (!ticket) return true;
    auto settled = worker->settled(*ticket);
    if (settled && !*settled) return false;
    ticket.reset();
    if (settled) return true;
    path.reset();  // withdrawn: nothing queued for the worker points to it
    dp.started.erase(id);
    return std::unexpected(settled.error());
  };
  start();

  RawClient adding(socket_path());
  ASSERT_TRUE(adding.connected());
  adding.send(api::encode(api::Request{11, "queue.add", web_queue("web1", "port1", "52:54:00:aa:bb:01")}));
  api::Client other(socket_path(), 5s);
  ASSERT_TRUE(shows_state(other, "web1", "set")) << "the queue was not allocated";
  auto status = other.call("status");
  ASSERT_TRUE(status) << status.error().error.message;
  EXPECT_FALSE(adding.read_line(20ms)) << "queue.add answered before the worker's deadline";

  const auto reply = decoded(adding.read_line(10s));
  EXPECT_EQ(reply.id, 11u);
  ASSERT_TRUE(reply.error);
  EXPECT_EQ(reply.error->code, Errc::timeout);
  EXPECT_EQ(reply.error->message, "queue web1: the worker of CPU 0 did not answer within 3000 ms; nothing changed");
  on_io([&] { EXPECT_EQ(path, nullptr) << "the path handed to the worker was not freed"; });
  status = other.call("status");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->at("queues"), 0) << "queue.add left something behind";

  busy.release();
  const unsigned before = busy.services;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (busy.services < before + 3 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_GE(busy.services, before + 3) << "the worker did not run again";
  EXPECT_EQ(liveness.serviced_after_free, 0) << "the worker served the freed path";
  EXPECT_EQ(worker->queue_count(), 1u);
  on_io([&] {
    dp.on_start = nullptr;
    dp.on_settle = nullptr;
  });
  EXPECT_TRUE(settle(*worker, worker->post_remove(&busy)));
}

TEST_F(ControlServerTest, StaleSocketFileIsReplaced) {
  std::filesystem::create_directories(dir.file("run"));
  {
    // An agent that died: its socket file stays, nobody listens.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    const sockaddr_un addr = address_of(socket_path());
    ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
    ::close(fd);
  }
  ASSERT_TRUE(std::filesystem::is_socket(socket_path()));
  RawClient nobody(socket_path());
  ASSERT_FALSE(nobody.connected());
  EXPECT_EQ(nobody.connect_errno(), ECONNREFUSED);

  start();
  api::Client client(socket_path(), 5s);
  auto status = client.call("status");
  EXPECT_TRUE(status) << status.error().error.message;
}

TEST_F(ControlServerTest, SomethingElseAtTheSocketPathIsNotDeleted) {
  // A configuration mistake: socket = the state file, say.
  std::filesystem::create_directories(dir.file("run"));
  test::write_file(socket_path(), "precious\n");
  asio::io_context other_io;
  auto opened = ControlServer::open(other_io, socket_path(), kNoSuchGroup, control, sink());
  ASSERT_FALSE(opened) << "only a socket file left by an agent that died may be replaced";
  EXPECT_EQ(opened.error().code, Errc::conflict);
  EXPECT_EQ(opened.error().message, socket_path() + " exists and is not a socket: vmqd will not remove it");
  EXPECT_TRUE(std::filesystem::is_regular_file(socket_path()));
  EXPECT_EQ(test::read_file(socket_path()), "precious\n");
}

TEST_F(ControlServerTest, RunningOutOfDescriptorsDoesNotSpinTheAcceptLoop) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "not under the sanitizers: their runtime needs free descriptors (UBSan's vptr check opens a "
                  "pipe), so exhausting them makes it report a false 'invalid vptr' and abort";
#endif
  start();
  // Clients in another process, so that only the server runs out of descriptors.
  int go[2], ready[2], release[2];
  ASSERT_EQ(::pipe(go), 0);
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  const sockaddr_un addr = address_of(socket_path());
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {  // async-signal-safe calls only; exits if the parent goes away
    ::close(go[1]);
    ::close(ready[0]);
    ::close(release[1]);
    char c = 0;
    if (::read(go[0], &c, 1) != 1) ::_exit(2);
    for (int i = 0; i < 8; ++i) {
      const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
      if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) ::_exit(1);
    }
    (void)!::write(ready[1], &c, 1);
    (void)!::read(release[0], &c, 1);
    ::_exit(0);
  }
  ::close(go[0]);
  ::close(ready[1]);
  ::close(release[0]);

  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
  std::vector<int> fillers;
  // Whatever happens below: descriptors back, the child released and reaped.
  struct Cleanup {
    const rlimit& limit;
    std::vector<int>& fds;
    int go_fd, ready_fd, release_fd;
    pid_t child;
    ~Cleanup() {
      for (int fd : fds) ::close(fd);
      fds.clear();
      ::setrlimit(RLIMIT_NOFILE, &limit);
      for (int fd : {go_fd, ready_fd, release_fd}) ::close(fd);
      int status = 0;
      ::waitpid(child, &status, 0);
    }
  } cleanup{old, fillers, go[1], ready[0], release[1], pid};

  // Use up every descriptor this process may open: the server cannot accept.
  int highest = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
    highest = std::max(highest, std::atoi(entry.path().filename().c_str()));
  rlimit tight = old;
  tight.rlim_cur = static_cast<rlim_t>(highest + 1);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0) << std::strerror(errno);
  for (int fd; (fd = ::dup(0)) >= 0;) fillers.push_back(fd);
  const int dup_errno = errno;
  (void)!::write(go[1], "g", 1);
  char c = 0;
  const bool clients_ready = ::read(ready[0], &c, 1) == 1;
  // The server's first failed accept, then its next warning: it warns at most once a second, so the two are a
  // second apart however often it retries. The CPU time its thread used between them shows whether it waited
  // between retries or spun. (Nothing here may open a descriptor.)
  const bool first = wait_for_accept_errors(1, 10s);
  const auto cpu_before = io_thread_cpu_time();
  const bool second = first && wait_for_accept_errors(2, 10s);
  const auto cpu_spent = io_thread_cpu_time() - cpu_before;
  const std::vector<std::chrono::steady_clock::time_point> warned = accept_error_times();
  for (int fd : fillers) ::close(fd);
  fillers.clear();
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &old), 0);
  EXPECT_EQ(dup_errno, EMFILE);
  ASSERT_TRUE(clients_ready);
  ASSERT_TRUE(first) << "the server never ran out of descriptors: the test did not test anything";
  ASSERT_TRUE(second) << "no second warning while out of descriptors: the server stopped accepting";
  ASSERT_GE(warned.size(), 2u);
  EXPECT_GE(warned[1] - warned[0], 500ms) << "an accept warning for every retry floods the journal";
  EXPECT_LT(cpu_spent, 100ms) << "the server retried a failed accept at once instead of waiting: its thread spun ("
                              << std::chrono::duration_cast<std::chrono::milliseconds>(cpu_spent).count()
                              << " ms of CPU in "
                              << std::chrono::duration_cast<std::chrono::milliseconds>(warned[1] - warned[0]).count()
                              << " ms)";

  // Once descriptors are available again, the server serves.
  api::Client client(socket_path(), 5s);
  auto served = client.call("status");
  EXPECT_TRUE(served) << served.error().error.message;
}

TEST_F(ControlServerTest, SecondServerOnTheSamePathIsRefused) {
  start();
  asio::io_context other_io;
  ControlApi other_api(manager, dp, dp, AgentInfo{"other", "h", std::chrono::steady_clock::now()},
                       [] { return Result<void>{}; });
  auto second = ControlServer::open(other_io, socket_path(), kNoSuchGroup, other_api, sink());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::conflict);
  EXPECT_EQ(second.error().message, "another vmqd is already serving " + socket_path());
  // The first one is untouched and serving.
  EXPECT_TRUE(std::filesystem::is_socket(socket_path()));
  api::Client client(socket_path(), 5s);
  auto status = client.call("status");
  ASSERT_TRUE(status) << status.error().error.message;
  EXPECT_EQ(status->at("version"), "9.8.7");
}

TEST_F(ControlServerTest, SocketIsPrivateWhenTheGroupDoesNotExist) {
  start(kNoSuchGroup);
  EXPECT_EQ(test::file_mode(socket_path()), 0600u);
  const auto lines = log_lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(contains(lines[0], fmt::format("4: group '{}' does not exist: only root can use {}", kNoSuchGroup,
                                             socket_path())))
      << lines[0];
}

TEST_F(ControlServerTest, SocketIsPrivateWithoutAGroupAndSaysNothing) {
  start("");
  EXPECT_EQ(test::file_mode(socket_path()), 0600u);
  EXPECT_TRUE(log_lines().empty());
}

TEST_F(ControlServerTest, SocketBelongsToAnExistingGroup) {
  if (::geteuid() != 0) GTEST_SKIP() << "chown to root:<group> needs root";
  start("root");
  struct stat st {};
  ASSERT_EQ(::stat(socket_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_gid, 0u);

  // SIGHUP with a group that no longer exists closes it again.
  on_io([&] { server->set_group(kNoSuchGroup); });
  EXPECT_EQ(test::file_mode(socket_path()), 0600u);
}

TEST_F(ControlServerTest, StopRemovesTheSocketFile) {
  start();
  ASSERT_TRUE(std::filesystem::exists(socket_path()));
  on_io([&] { server->stop(); });
  EXPECT_FALSE(std::filesystem::exists(socket_path()));
  api::Client client(socket_path(), 1s);
  auto status = client.call("status");
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().kind, api::CallFailure::unreachable);
}

// ---- who may connect (needs root to become another user) -------------------

struct ChildOutcome {
  bool ran = false;          // the child could switch users
  int connect_errno = 0;     // connect() failed with this
  std::string reply;         // else: the first reply line
};

// Connects as uid 65534 with the given groups and sends a status request.
// The child runs only async-signal-safe calls: the parent has threads.
ChildOutcome connect_as_nobody(const std::string& path, gid_t gid, const std::vector<gid_t>& groups) {
  const std::string request = api::encode(api::Request{77, "status", json::object()});
  const sockaddr_un addr = address_of(path);
  int out[2];
  if (::pipe(out) != 0) return {};
  const pid_t pid = ::fork();
  if (pid < 0) return {};
  if (pid == 0) {
    ::close(out[0]);
    const uid_t nobody = 65534;
    if (::setgroups(groups.size(), groups.data()) != 0 || ::setresgid(gid, gid, gid) != 0 ||
        ::setresuid(nobody, nobody, nobody) != 0)
      ::_exit(90);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) ::_exit(91);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      const int err = errno;
      char tag = 'E';
      (void)!::write(out[1], &tag, 1);
      (void)!::write(out[1], &err, sizeof err);
      ::_exit(0);
    }
    (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    char tag = 'R';
    (void)!::write(out[1], &tag, 1);
    char buf[4096];
    while (true) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      (void)!::write(out[1], buf, static_cast<std::size_t>(n));
      if (std::memchr(buf, '\n', static_cast<std::size_t>(n))) break;
    }
    ::_exit(0);
  }
  ::close(out[1]);
  std::string data;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ChildOutcome outcome;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || data.empty()) return outcome;
  outcome.ran = true;
  if (data[0] == 'E' && data.size() >= 1 + sizeof(int)) {
    std::memcpy(&outcome.connect_errno, data.data() + 1, sizeof(int));
  } else {
    outcome.reply = data.substr(1);
    if (auto nl = outcome.reply.find('\n'); nl != std::string::npos) outcome.reply.resize(nl);
  }
  return outcome;
}

class ControlServerPeerTest : public ControlServerTest {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "becoming another user (uid 65534) to test the access checks needs root";
    // Let uid 65534 reach the socket's directory.
    ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  }
};

TEST_F(ControlServerPeerTest, OtherUsersCannotOpenAPrivateSocket) {
  start(kNoSuchGroup);
  ASSERT_EQ(::chmod(dir.file("run").c_str(), 0755), 0);
  const auto outcome = connect_as_nobody(socket_path(), 65534, {});
  ASSERT_TRUE(outcome.ran) << "the child could not become uid 65534";
  EXPECT_EQ(outcome.connect_errno, EACCES) << "mode 0600 keeps other users out; reply: " << outcome.reply;
}

TEST_F(ControlServerPeerTest, PeerCredentialsRefuseOtherUsersEvenIfTheModeLetsThemIn) {
  start(kNoSuchGroup);
  ASSERT_EQ(::chmod(dir.file("run").c_str(), 0755), 0);
  ASSERT_EQ(::chmod(socket_path().c_str(), 0666), 0);  // a mistake, or a race before chmod
  const auto outcome = connect_as_nobody(socket_path(), 65534, {});
  ASSERT_TRUE(outcome.ran);
  ASSERT_EQ(outcome.connect_errno, 0) << std::strerror(outcome.connect_errno);
  auto reply = api::decode_reply(outcome.reply);
  ASSERT_TRUE(reply) << outcome.reply;
  ASSERT_TRUE(reply->error) << outcome.reply;
  EXPECT_EQ(reply->error->code, Errc::permission);
  EXPECT_EQ(reply->error->message, fmt::format("uid 65534 is neither root nor a member of group '{}'", kNoSuchGroup));
  EXPECT_EQ(reply->id, 0u);
  EXPECT_EQ(manager.queues().size(), 0u);
  const auto lines = log_lines();
  EXPECT_TRUE(std::ranges::any_of(lines, [](const std::string& l) {
    return contains(l, "5: control socket: refused a client: uid 65534 is neither root nor a member");
  }));
}

TEST_F(ControlServerPeerTest, MembersOfTheGroupAreServed) {
  const group* g = ::getgrnam("nogroup");
  if (!g) GTEST_SKIP() << "no group 'nogroup' on this system";
  const gid_t nogroup = g->gr_gid;
  start("nogroup");
  ASSERT_EQ(::chmod(dir.file("run").c_str(), 0755), 0);
  struct stat st {};
  ASSERT_EQ(::stat(socket_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, nogroup);
  EXPECT_EQ(st.st_mode & 07777, 0660u);

  // Primary group.
  auto outcome = connect_as_nobody(socket_path(), nogroup, {});
  ASSERT_TRUE(outcome.ran);
  ASSERT_EQ(outcome.connect_errno, 0) << std::strerror(outcome.connect_errno);
  auto reply = api::decode_reply(outcome.reply);
  ASSERT_TRUE(reply) << outcome.reply;
  EXPECT_FALSE(reply->error) << outcome.reply;
  EXPECT_EQ(reply->id, 77u);

  // Supplementary group only (SO_PEERGROUPS).
  const gid_t other = nogroup - 1;
  outcome = connect_as_nobody(socket_path(), other, {nogroup});
  ASSERT_TRUE(outcome.ran);
  ASSERT_EQ(outcome.connect_errno, 0) << std::strerror(outcome.connect_errno);
  reply = api::decode_reply(outcome.reply);
  ASSERT_TRUE(reply) << outcome.reply;
  EXPECT_FALSE(reply->error) << outcome.reply;

  // Neither: the mode lets them in, the credentials do not.
  ASSERT_EQ(::chmod(socket_path().c_str(), 0666), 0);
  outcome = connect_as_nobody(socket_path(), other, {});
  ASSERT_TRUE(outcome.ran);
  ASSERT_EQ(outcome.connect_errno, 0);
  reply = api::decode_reply(outcome.reply);
  ASSERT_TRUE(reply) << outcome.reply;
  ASSERT_TRUE(reply->error) << outcome.reply;
  EXPECT_EQ(reply->error->code, Errc::permission);
  EXPECT_EQ(reply->error->message, "uid 65534 is neither root nor a member of group 'nogroup'");
}

}  // namespace
}  // namespace vmq::service
