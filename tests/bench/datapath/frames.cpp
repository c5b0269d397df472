#include "frames.h"

#include "core/frame_builder.h"

namespace vmq::bench {
namespace {

constexpr std::size_t kEthernetTaggedBytes = 18;
constexpr std::size_t kIpv4Bytes = 20;
constexpr std::size_t kUdpBytes = 8;
constexpr std::uint8_t kProtocolUdp = 17;
constexpr std::uint16_t kDiscardPort = 9;

void put_be16(std::vector<std::uint8_t>& out, std::size_t at, std::uint16_t value) {
  out[at] = static_cast<std::uint8_t>(value >> 8);
  out[at + 1] = static_cast<std::uint8_t>(value & 0xff);
}

std::uint16_t ipv4_checksum(const std::vector<std::uint8_t>& header) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < header.size(); i += 2) sum += static_cast<std::uint32_t>(header[i] << 8 | header[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

// IPv4 10.77.0.1 -> 198.51.100.1 (TEST-NET-2), UDP to the discard port; the
// UDP checksum is 0 (none), which IPv4 allows.
std::vector<std::uint8_t> udp_packet(std::size_t length) {
  std::vector<std::uint8_t> packet(length, 0);
  std::vector<std::uint8_t> ip(kIpv4Bytes, 0);
  ip[0] = 0x45;
  put_be16(ip, 2, static_cast<std::uint16_t>(length));
  ip[8] = 64;  // TTL
  ip[9] = kProtocolUdp;
  const std::uint8_t addresses[] = {10, 77, 0, 1, 198, 51, 100, 1};
  std::copy(std::begin(addresses), std::end(addresses), ip.begin() + 12);
  put_be16(ip, 10, ipv4_checksum(ip));
  std::copy(ip.begin(), ip.end(), packet.begin());
  put_be16(packet, kIpv4Bytes, kDiscardPort);
  put_be16(packet, kIpv4Bytes + 2, kDiscardPort);
  put_be16(packet, kIpv4Bytes + 4, static_cast<std::uint16_t>(length - kIpv4Bytes));
  return packet;
}

}  // namespace

std::vector<Flow> make_flows(const MacAddress& first_mac, std::uint16_t first_vlan, unsigned count) {
  std::vector<Flow> flows;
  for (unsigned i = 0; i < count; ++i) {
    MacAddress::Bytes bytes = first_mac.bytes();
    bytes[5] = static_cast<std::uint8_t>(bytes[5] + i);
    flows.push_back({MacAddress(bytes), static_cast<std::uint16_t>(first_vlan + i)});
  }
  return flows;
}

std::vector<std::uint8_t> template_frame(const Flow& flow, const MacAddress& source) {
  return FrameBuilder()
      .dst(flow.mac)
      .src(source)
      .tag(flow.vlan)
      .ethertype(kEthertypeIPv4)
      .payload(udp_packet(kFrameBytes - kEthernetTaggedBytes))
      .min_size(kFrameBytes)
      .build();
}

}  // namespace vmq::bench
