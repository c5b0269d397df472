#include "os/netdev.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "core/cpu_list.h"

namespace vmq::os {

Result<int> ifindex_of(const std::string& ifname) {
  const unsigned index = if_nametoindex(ifname.c_str());
  if (index == 0) {
    if (errno == ENODEV) return fail(Errc::not_found, fmt::format("network device {} does not exist", ifname));
    return fail_errno(errno, fmt::format("looking up network device {}", ifname));
  }
  return static_cast<int>(index);
}

Result<unsigned> mtu_of(const std::string& ifname) {
  if (ifname.size() >= IFNAMSIZ) return fail(Errc::invalid_argument, fmt::format("{} is not a device name", ifname));
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail_errno(errno, "opening a socket to read an MTU");
  ifreq request{};
  std::memcpy(request.ifr_name, ifname.c_str(), ifname.size());
  const int rc = ioctl(fd, SIOCGIFMTU, &request);
  const int err = errno;
  close(fd);
  if (rc != 0) return fail_errno(err, fmt::format("reading the MTU of {}", ifname));
  return static_cast<unsigned>(request.ifr_mtu);
}

Result<unsigned> rx_queue_count(const std::string& ifname) {
  // /sys/class/net/IF/queues holds rx-N for each active rx queue.
  std::error_code ec;
  const std::filesystem::path dir = "/sys/class/net/" + ifname + "/queues";
  unsigned count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    if (entry.path().filename().string().starts_with("rx-")) ++count;
  if (ec) return fail(Errc::not_found, fmt::format("reading the rx queues of {}: {}", ifname, ec.message()));
  if (count == 0) return fail(Errc::unsupported, fmt::format("{} reports no rx queues", ifname));
  return count;
}

Result<std::set<unsigned>> online_cpus() {
  std::ifstream in("/sys/devices/system/cpu/online");
  std::string text;
  if (!in || !std::getline(in, text)) return fail(Errc::system, "reading /sys/devices/system/cpu/online");
  return parse_cpu_list(text);
}

}  // namespace vmq::os
