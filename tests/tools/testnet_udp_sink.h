// A UDP socket that swallows datagrams: with it, a guest that receives the
// test stream has a listener and sends nothing back.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

namespace vmq::testnet {

class UdpSink {
 public:
  static std::optional<UdpSink> open(std::uint16_t port, std::string& error) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      error = std::string("socket(UDP): ") + std::strerror(errno);
      return std::nullopt;
    }
    UdpSink sink(fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      error = "binding UDP port " + std::to_string(port) + ": " + std::strerror(errno);
      return std::nullopt;
    }
    return sink;
  }
  UdpSink(UdpSink&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UdpSink& operator=(UdpSink&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  UdpSink(const UdpSink&) = delete;
  ~UdpSink() {
    if (fd_ >= 0) ::close(fd_);
  }
  void drain() {
    char buf[2048];
    while (::recv(fd_, buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
  }

 private:
  explicit UdpSink(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace vmq::testnet
