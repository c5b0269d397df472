#include "link_stats.h"

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "netns.h"

namespace vmq::bench {
namespace {

constexpr std::size_t kReplyBytes = 16384;

struct LinkRequest {
  nlmsghdr header;
  ifinfomsg info;
  std::array<char, RTA_SPACE(IFNAMSIZ)> name_attribute;
};

LinkRequest request_for(const std::string& ifname) {
  LinkRequest request{};
  request.header.nlmsg_len = NLMSG_LENGTH(sizeof(ifinfomsg)) + RTA_SPACE(ifname.size() + 1);
  request.header.nlmsg_type = RTM_GETLINK;
  request.header.nlmsg_flags = NLM_F_REQUEST;
  request.info.ifi_family = AF_UNSPEC;
  rtattr attribute{};
  attribute.rta_type = IFLA_IFNAME;
  attribute.rta_len = static_cast<unsigned short>(RTA_LENGTH(ifname.size() + 1));
  std::memcpy(request.name_attribute.data(), &attribute, sizeof attribute);
  std::memcpy(request.name_attribute.data() + RTA_LENGTH(0), ifname.c_str(), ifname.size() + 1);
  return request;
}

// Netlink messages are byte streams of aligned headers: copy, never cast.
Result<LinkCounters> counters_in(const char* payload, std::size_t length, const std::string& ifname) {
  std::size_t offset = NLMSG_ALIGN(sizeof(ifinfomsg));
  while (offset + sizeof(rtattr) <= length) {
    rtattr attribute{};
    std::memcpy(&attribute, payload + offset, sizeof attribute);
    if (attribute.rta_len < sizeof(rtattr) || offset + attribute.rta_len > length) break;
    if (attribute.rta_type == IFLA_STATS64 && attribute.rta_len >= RTA_LENGTH(sizeof(rtnl_link_stats64))) {
      rtnl_link_stats64 stats{};
      std::memcpy(&stats, payload + offset + RTA_LENGTH(0), sizeof stats);
      return LinkCounters{stats.rx_packets, stats.tx_packets, stats.rx_dropped, stats.tx_dropped, stats.rx_nohandler};
    }
    offset += RTA_ALIGN(attribute.rta_len);
  }
  return fail(Errc::protocol, fmt::format("no IFLA_STATS64 in the kernel's answer about {}", ifname));
}

}  // namespace

LinkCounters operator-(const LinkCounters& after, const LinkCounters& before) {
  return {after.rx_packets - before.rx_packets, after.tx_packets - before.tx_packets,
          after.rx_dropped - before.rx_dropped, after.tx_dropped - before.tx_dropped,
          after.rx_nohandler - before.rx_nohandler};
}

Result<LinkStatsReader> LinkStatsReader::open(const std::string& netns) {
  auto inside = NetnsGuard::enter(netns);
  if (!inside) return std::unexpected(inside.error());
  UniqueFd socket(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!socket) return fail_errno(errno, fmt::format("opening a netlink socket in {}", netns));
  return LinkStatsReader(netns, std::move(socket));
}

Result<LinkCounters> LinkStatsReader::read(const std::string& ifname) const {
  if (ifname.size() >= IFNAMSIZ) return fail(Errc::invalid_argument, fmt::format("device name {} is too long", ifname));
  const LinkRequest request = request_for(ifname);
  if (::send(socket_.get(), &request, request.header.nlmsg_len, 0) < 0)
    return fail_errno(errno, fmt::format("asking for the counters of {} in {}", ifname, netns_));
  std::array<char, kReplyBytes> reply{};
  const ssize_t received = ::recv(socket_.get(), reply.data(), reply.size(), 0);
  if (received < 0) return fail_errno(errno, fmt::format("reading the counters of {} in {}", ifname, netns_));
  nlmsghdr header{};
  if (static_cast<std::size_t>(received) < sizeof header)
    return fail(Errc::protocol, fmt::format("short netlink answer about {}", ifname));
  std::memcpy(&header, reply.data(), sizeof header);
  if (header.nlmsg_type == NLMSG_ERROR) {
    nlmsgerr error{};
    std::memcpy(&error, reply.data() + NLMSG_HDRLEN, sizeof error);
    return fail_errno(-error.error, fmt::format("counters of {} in {}", ifname, netns_));
  }
  if (header.nlmsg_type != RTM_NEWLINK || header.nlmsg_len > static_cast<std::size_t>(received))
    return fail(Errc::protocol, fmt::format("unexpected netlink answer about {}", ifname));
  return counters_in(reply.data() + NLMSG_HDRLEN, header.nlmsg_len - NLMSG_HDRLEN, ifname);
}

}  // namespace vmq::bench
