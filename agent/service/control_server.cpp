#include "service/control_server.h"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

namespace vmq::service {

namespace asio = boost::asio;
using asio::local::stream_protocol;

namespace {

constexpr std::size_t kMaxSessions = 64;
constexpr auto kIdleTimeout = std::chrono::seconds(60);
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);

std::optional<gid_t> group_id(const std::string& name) {
  if (name.empty()) return std::nullopt;
  const group* g = getgrnam(name.c_str());
  if (!g) return std::nullopt;
  return g->gr_gid;
}

// Another agent is serving the path if a connection succeeds.
bool someone_listens(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  const bool connected = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return connected;
}

}  // namespace

// One client's connection, shared by its reader and its idle watchdog.
struct ControlServer::Session {
  explicit Session(stream_protocol::socket s) : socket(std::move(s)), idle(socket.get_executor()) {}
  stream_protocol::socket socket;
  asio::steady_timer idle;
  bool handling = false;  // a request has been read and is not answered yet
};

ControlServer::ControlServer(asio::io_context& io, std::string path, ControlApi& api, LogSink log)
    : io_(io), path_(std::move(path)), api_(api), log_(std::move(log)), acceptor_(io), all_answered_(io) {}

ControlServer::~ControlServer() { stop(); }

Result<std::unique_ptr<ControlServer>> ControlServer::open(asio::io_context& io, const std::string& path,
                                                           const std::string& group, ControlApi& api, LogSink log) {
  std::unique_ptr<ControlServer> server(new ControlServer(io, path, api, std::move(log)));
  std::error_code fs_error;
  const auto dir = std::filesystem::path(path).parent_path();
  std::filesystem::create_directories(dir, fs_error);
  if (fs_error) return fail(Errc::system, fmt::format("creating {}: {}", dir.string(), fs_error.message()));
  if (std::filesystem::exists(path, fs_error)) {
    if (!std::filesystem::is_socket(path, fs_error))
      return fail(Errc::conflict, fmt::format("{} exists and is not a socket: vmqd will not remove it", path));
    if (someone_listens(path))
      return fail(Errc::conflict, fmt::format("another vmqd is already serving {}", path));
    std::filesystem::remove(path, fs_error);  // left behind by an agent that died
  }
  boost::system::error_code ec;
  server->acceptor_.open(stream_protocol(), ec);
  if (!ec) server->acceptor_.bind(stream_protocol::endpoint(path), ec);
  if (!ec) server->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(Errc::system, fmt::format("listening on {}: {}", path, ec.message()));
  server->set_group(group);
  return server;
}

void ControlServer::set_group(const std::string& name) {
  group_name_ = name;
  group_ = group_id(name);
  if (group_) {
    // Owner unchanged: a member of the group may give a file it owns to that
    // group without CAP_CHOWN, which vmqd.service does not grant.
    if (::chown(path_.c_str(), static_cast<uid_t>(-1), *group_) != 0) {
      const int err = errno;
      log_(LogLevel::warning,
           fmt::format("{}: giving it to group '{}': {}{}", path_, name, std::strerror(err),
                       err == EPERM ? fmt::format(" (vmqd must be a member of '{}', as vmqd.service makes it with "
                                                  "SupplementaryGroups=, or have CAP_CHOWN)",
                                                  name)
                                    : ""));
      ::chmod(path_.c_str(), 0600);
      return;
    }
    if (::chmod(path_.c_str(), 0660) != 0)
      log_(LogLevel::warning, fmt::format("{}: setting mode 0660: {}", path_, std::strerror(errno)));
    return;
  }
  ::chmod(path_.c_str(), 0600);
  if (!name.empty())
    log_(LogLevel::warning, fmt::format("group '{}' does not exist: only root can use {} (create the group and send "
                                        "SIGHUP to open it to its members)",
                                        name, path_));
}

void ControlServer::start() { asio::co_spawn(io_, accept_loop(), asio::detached); }

void ControlServer::stop() {
  stopping_ = true;
  boost::system::error_code ec;
  for (const auto& weak : open_sessions_)
    if (auto session = weak.lock(); session && !session->handling) session->socket.close(ec);
  open_sessions_.clear();
  if (!acceptor_.is_open()) return;
  acceptor_.close(ec);
  ::unlink(path_.c_str());
}

asio::awaitable<void> ControlServer::wait_until_answered(std::chrono::steady_clock::duration limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  boost::system::error_code ec;
  while (requests_in_progress_ > 0 && std::chrono::steady_clock::now() < deadline) {
    all_answered_.expires_at(deadline);
    co_await all_answered_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

Result<void> ControlServer::check_peer(int fd) const {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return fail_errno(errno, "reading peer credentials");
  if (cred.uid == 0) return {};
  if (group_) {
    if (cred.gid == *group_) return {};
    std::vector<gid_t> groups(256);
    socklen_t size = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &size) == 0) {
      groups.resize(size / sizeof(gid_t));
      for (gid_t g : groups)
        if (g == *group_) return {};
    }
  }
  return fail(Errc::permission, fmt::format("uid {} is neither root nor a member of group '{}'", cred.uid,
                                            group_name_.empty() ? "(none configured)" : group_name_));
}

asio::awaitable<void> ControlServer::accept_loop() {
  while (acceptor_.is_open()) {
    boost::system::error_code ec;
    stream_protocol::socket socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      // Out of descriptors, say: retrying at once would spin and flood the log.
      const auto now = std::chrono::steady_clock::now();
      if (now - last_accept_warning_ >= std::chrono::seconds(1)) {
        log_(LogLevel::warning, fmt::format("control socket: accept: {}", ec.message()));
        last_accept_warning_ = now;
      }
      asio::steady_timer pause(io_, kAcceptRetry);
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> ControlServer::send(Session& session, const api::Reply& reply) {
  boost::system::error_code ec;
  co_await asio::async_write(session.socket, asio::buffer(api::encode(reply)),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) session.socket.close(ec);
}

// Closes the connection once it has been idle, or stuck mid-request, too long.
asio::awaitable<void> ControlServer::watch_idle(std::shared_ptr<Session> session) {
  boost::system::error_code ec;
  while (session->socket.is_open()) {
    session->idle.expires_after(kIdleTimeout);
    co_await session->idle.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) session->socket.close(ec);  // expired, not cancelled
  }
}

asio::awaitable<void> ControlServer::serve(stream_protocol::socket socket) {
  const auto sessions = sessions_;
  ++*sessions;
  const std::shared_ptr<void> leave(nullptr, [sessions](void*) { --*sessions; });
  auto session = std::make_shared<Session>(std::move(socket));
  // Replies are named before co_await: GCC 12 destroys temporaries inside a
  // co_await expression twice.
  if (*sessions > kMaxSessions) {
    const api::Reply busy{0, {}, Error{Errc::limit_reached, "too many control connections; try again"}};
    co_await send(*session, busy);
    co_return;
  }
  if (auto allowed = check_peer(session->socket.native_handle()); !allowed) {
    log_(LogLevel::notice, fmt::format("control socket: refused a client: {}", allowed.error().message));
    const api::Reply refused{0, {}, allowed.error()};
    co_await send(*session, refused);
    co_return;
  }
  asio::co_spawn(io_, watch_idle(session), asio::detached);
  std::erase_if(open_sessions_, [](const std::weak_ptr<Session>& s) { return s.expired(); });
  open_sessions_.push_back(session);

  std::string buffer;
  boost::system::error_code ec;
  while (session->socket.is_open() && !stopping_) {
    const std::size_t n = co_await asio::async_read_until(
        session->socket, asio::dynamic_buffer(buffer, api::kMaxMessageBytes + 1), '\n',
        asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::not_found) {  // the buffer filled up without a newline
      const api::Reply too_long{
          0, {}, Error{Errc::protocol, fmt::format("request longer than {} bytes", api::kMaxMessageBytes)}};
      co_await send(*session, too_long);
      break;
    }
    if (ec) break;
    const std::string line = buffer.substr(0, n - 1);
    buffer.erase(0, n);
    std::uint64_t id = 0;
    const auto request = api::decode_request(line, &id);
    api::Reply reply{id, {}, std::nullopt};
    if (request) {
      session->handling = true;
      ++requests_in_progress_;
      reply = co_await api_.handle(*request);
      if (--requests_in_progress_ == 0) all_answered_.cancel();
      session->handling = false;
    } else {
      reply.error = request.error();
    }
    co_await send(*session, reply);
    session->idle.cancel();  // a complete exchange restarts the idle period
  }
  session->socket.close(ec);
  session->idle.cancel();
}

}  // namespace vmq::service
