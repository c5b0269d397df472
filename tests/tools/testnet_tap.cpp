#include "testnet_tap.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace vmq::testnet {

std::optional<Tap> Tap::open(const std::string& name, std::string& error) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    error = "invalid tap name '" + name + "'";
    return std::nullopt;
  }
  const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    error = std::string("/dev/net/tun: ") + std::strerror(errno);
    return std::nullopt;
  }
  Tap tap(fd, name);
  ifreq request{};
  std::memcpy(request.ifr_name, name.c_str(), name.size());
  request.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (ioctl(fd, TUNSETIFF, &request) != 0) {
    error = "TUNSETIFF " + name + ": " + std::strerror(errno);
    return std::nullopt;
  }
  return tap;
}

Tap::Tap(Tap&& o) noexcept : fd_(std::exchange(o.fd_, -1)), name_(std::move(o.name_)) {}

Tap::~Tap() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace vmq::testnet
