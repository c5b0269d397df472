#include "testnet_socket.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace vmq::testnet {

std::optional<PacketSocket> PacketSocket::open(const std::string& ifname, std::string& error) {
  const unsigned ifindex = if_nametoindex(ifname.c_str());
  if (ifindex == 0) {
    error = "no interface " + ifname;
    return std::nullopt;
  }
  const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (fd < 0) {
    error = std::string("socket(AF_PACKET): ") + std::strerror(errno);
    return std::nullopt;
  }
  PacketSocket s(fd, static_cast<int>(ifindex));
  const int on = 1;
  setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &on, sizeof on);
  setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &on, sizeof on);
  const int buffer = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buffer, sizeof buffer);
  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_protocol = htons(ETH_P_ALL);
  addr.sll_ifindex = static_cast<int>(ifindex);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error = std::string("bind: ") + std::strerror(errno);
    return std::nullopt;
  }
  return s;
}

PacketSocket::PacketSocket(PacketSocket&& o) noexcept : fd_(std::exchange(o.fd_, -1)), ifindex_(o.ifindex_) {}

PacketSocket::~PacketSocket() {
  if (fd_ >= 0) ::close(fd_);
}

bool PacketSocket::send(std::span<const std::uint8_t> frame, std::string& error) {
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = ifindex_;
  to.sll_halen = 6;
  if (frame.size() >= 14) to.sll_protocol = static_cast<std::uint16_t>(frame[12] | frame[13] << 8);
  std::memcpy(to.sll_addr, frame.data(), 6);
  if (::sendto(fd_, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) >= 0) return true;
  if (errno == ENOBUFS || errno == EAGAIN) return false;
  error = std::string("send: ") + std::strerror(errno);
  return false;
}

std::optional<ReceivedFrame> PacketSocket::receive(int timeout_ms) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
  ReceivedFrame frame;
  frame.bytes.resize(16384);
  sockaddr_ll from{};
  iovec iov{frame.bytes.data(), frame.bytes.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(tpacket_auxdata))];
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const ssize_t n = ::recvmsg(fd_, &msg, MSG_DONTWAIT);
  if (n < 0) return std::nullopt;
  if (from.sll_pkttype == PACKET_OUTGOING) return ReceivedFrame{};  // our own transmissions
  frame.bytes.resize(static_cast<std::size_t>(n));
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) continue;
    tpacket_auxdata aux{};
    std::memcpy(&aux, CMSG_DATA(c), sizeof aux);
    if (aux.tp_status & TP_STATUS_VLAN_VALID) frame.vlan = aux.tp_vlan_tci & 0x0fff;
  }
  return frame;
}

}  // namespace vmq::testnet
