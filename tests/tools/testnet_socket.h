// An AF_PACKET socket on one interface: sends whole frames, receives frames
// with the VLAN tag the kernel took out of them.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace vmq::testnet {

struct ReceivedFrame {
  std::vector<std::uint8_t> bytes;
  std::optional<std::uint16_t> vlan;  // the tag the frame arrived with, if any
};

class PacketSocket {
 public:
  static std::optional<PacketSocket> open(const std::string& ifname, std::string& error);
  PacketSocket(PacketSocket&& o) noexcept;
  PacketSocket(const PacketSocket&) = delete;
  ~PacketSocket();

  // False when the kernel has no room right now (ENOBUFS/EAGAIN).
  bool send(std::span<const std::uint8_t> frame, std::string& error);
  // Waits up to timeout_ms for a frame.
  std::optional<ReceivedFrame> receive(int timeout_ms);

 private:
  PacketSocket(int fd, int ifindex) : fd_(fd), ifindex_(ifindex) {}
  int fd_ = -1;
  int ifindex_ = 0;
};

}  // namespace vmq::testnet
