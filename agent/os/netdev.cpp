#include "os/netdev.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

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

Result<std::set<unsigned>> parse_cpu_list(std::string_view text) {
  std::set<unsigned> cpus;
  auto invalid = [&] { return fail(Errc::invalid_argument, fmt::format("invalid CPU list '{}'", text)); };
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  if (text.empty()) return cpus;
  for (std::size_t pos = 0; pos <= text.size();) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    const std::string_view item = text.substr(pos, comma - pos);
    const std::size_t dash = item.find('-');
    unsigned first = 0, last = 0;
    const auto first_text = item.substr(0, dash);
    auto [p1, e1] = std::from_chars(first_text.data(), first_text.data() + first_text.size(), first);
    if (e1 != std::errc{} || p1 != first_text.data() + first_text.size()) return invalid();
    last = first;
    if (dash != std::string_view::npos) {
      const auto last_text = item.substr(dash + 1);
      auto [p2, e2] = std::from_chars(last_text.data(), last_text.data() + last_text.size(), last);
      if (e2 != std::errc{} || p2 != last_text.data() + last_text.size() || last < first) return invalid();
    }
    if (last > 4095) return invalid();
    for (unsigned c = first; c <= last; ++c) cpus.insert(c);
    pos = comma + 1;
  }
  return cpus;
}

Result<std::set<unsigned>> online_cpus() {
  std::ifstream in("/sys/devices/system/cpu/online");
  std::string text;
  if (!in || !std::getline(in, text)) return fail(Errc::system, "reading /sys/devices/system/cpu/online");
  return parse_cpu_list(text);
}

}  // namespace vmq::os
