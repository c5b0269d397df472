#include "vhost/tap_leg.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace vmq::vhost {
namespace {

ifreq request_for(const std::string& name) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  return ifr;
}

Result<void> join_bridge(const std::string& tap, const std::string& bridge) {
  UniqueFd control(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!control) return fail_errno(errno, "opening a socket for interface requests");
  ifreq flags = request_for(tap);
  if (ioctl(control.get(), SIOCGIFFLAGS, &flags) != 0) return fail_errno(errno, fmt::format("reading {}'s flags", tap));
  flags.ifr_flags = static_cast<short>(flags.ifr_flags | IFF_UP);
  if (ioctl(control.get(), SIOCSIFFLAGS, &flags) != 0) return fail_errno(errno, fmt::format("setting {} up", tap));
  ifreq add = request_for(bridge);
  add.ifr_ifindex = static_cast<int>(if_nametoindex(tap.c_str()));
  if (ioctl(control.get(), SIOCBRADDIF, &add) != 0)
    return fail_errno(errno, fmt::format("adding {} to bridge {} (vhost_user_bridge)", tap, bridge));
  return {};
}

}  // namespace

Result<TapLeg> TapLeg::open(const std::string& name, const std::string& bridge) {
  UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return fail_errno(errno, "opening /dev/net/tun");
  ifreq ifr = request_for(name);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (ioctl(fd.get(), TUNSETIFF, &ifr) != 0) return fail_errno(errno, fmt::format("creating tap {}", name));
  if (auto ok = join_bridge(name, bridge); !ok) return std::unexpected(ok.error());
  return TapLeg(std::move(fd));
}

std::size_t TapLeg::read(std::span<std::uint8_t> buffer) const {
  const ssize_t n = ::read(fd_.get(), buffer.data(), buffer.size());
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

bool TapLeg::write(std::span<const iovec> frame) const {
  return ::writev(fd_.get(), frame.data(), static_cast<int>(frame.size())) > 0;
}

}  // namespace vmq::vhost
