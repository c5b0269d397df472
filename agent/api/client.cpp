#include "api/client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace vmq::api {

Client::~Client() {
  if (fd_ >= 0) ::close(fd_);
}

// Bounded by the timeout like every reply: a blocking connect to a Unix
// socket whose listen backlog is full (an agent that does not accept) waits
// forever, a non-blocking one says EAGAIN and is tried again.
Result<void> Client::connect() {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof addr.sun_path)
    return fail(Errc::invalid_argument, fmt::format("socket path {} is too long", socket_path_));
  std::memcpy(addr.sun_path, socket_path_.c_str(), socket_path_.size() + 1);
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) return fail_errno(errno, "creating a Unix socket");
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  auto give_up = [&](Error error) {
    ::close(fd_);
    fd_ = -1;
    return std::unexpected(std::move(error));
  };
  while (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    if (err == EINTR) continue;
    if (err != EAGAIN) return give_up(system_error(err, fmt::format("connecting to {}", socket_path_)));
    if (std::chrono::steady_clock::now() >= deadline)
      return give_up(Error{Errc::timeout, fmt::format("connecting to {}: the agent accepted no connection within {} s",
                                                      socket_path_, std::chrono::duration<double>(timeout_).count())});
    ::poll(nullptr, 0, 10);
  }
  // Replies are awaited with poll(); sending a request may block as before.
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags < 0 || ::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK) != 0)
    return give_up(system_error(errno, "making the control socket blocking"));
  return {};
}

Result<void> Client::send_all(const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(errno, fmt::format("writing to {}", socket_path_));
    }
    sent += static_cast<std::size_t>(n);
  }
  return {};
}

Result<std::string> Client::read_line() {
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  while (true) {
    if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    if (buffer_.size() > kMaxMessageBytes) return fail(Errc::protocol, "the agent's reply is too long");
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return fail(Errc::timeout, fmt::format("no reply from the agent within {} s", timeout_.count() / 1000));
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) return fail_errno(errno, "waiting for the agent's reply");
    if (ready <= 0) continue;
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(errno, fmt::format("reading from {}", socket_path_));
    }
    if (n == 0) return fail(Errc::system, "the agent closed the connection");
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

std::expected<json, CallError> Client::call(const std::string& method, json params) {
  auto unreachable = [](Error e) { return std::unexpected(CallError{CallFailure::unreachable, std::move(e)}); };
  if (fd_ < 0) {
    if (auto ok = connect(); !ok) {
      // Permission to talk to the agent was denied: that is a refusal.
      if (ok.error().sys_errno == EACCES || ok.error().sys_errno == EPERM) {
        Error denied = ok.error();
        denied.code = Errc::permission;
        return std::unexpected(CallError{CallFailure::refused, denied});
      }
      return unreachable(ok.error());
    }
  }
  const Request request{next_id_++, method, std::move(params)};
  if (auto ok = send_all(encode(request)); !ok) return unreachable(ok.error());
  auto line = read_line();
  if (!line) return unreachable(line.error());
  auto reply = decode_reply(*line);
  if (!reply) return unreachable(reply.error());
  if (reply->error) return std::unexpected(CallError{CallFailure::refused, *reply->error});
  return std::move(reply->result);
}

}  // namespace vmq::api
