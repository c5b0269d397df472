#include "testnet_frames.h"

#include <arpa/inet.h>

#include <cstring>

#include "core/frame_builder.h"

namespace vmq::testnet {
namespace {

constexpr std::size_t kIpHeader = 20, kUdpHeader = 8, kPayload = 16;

void put16(std::vector<std::uint8_t>& v, std::uint16_t x) {
  v.push_back(static_cast<std::uint8_t>(x >> 8));
  v.push_back(static_cast<std::uint8_t>(x));
}
void put32(std::vector<std::uint8_t>& v, std::uint32_t x) {
  put16(v, static_cast<std::uint16_t>(x >> 16));
  put16(v, static_cast<std::uint16_t>(x));
}

std::uint16_t ip_checksum(std::span<const std::uint8_t> header) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < header.size(); i += 2) sum += static_cast<std::uint32_t>(header[i] << 8 | header[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

std::uint32_t get32(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint32_t>(b[at]) << 24 | static_cast<std::uint32_t>(b[at + 1]) << 16 |
         static_cast<std::uint32_t>(b[at + 2]) << 8 | b[at + 3];
}

}  // namespace

std::vector<std::uint8_t> build_frame(const StreamSpec& spec, std::uint64_t seq) {
  const std::size_t l2 = 14 + 4 * spec.vlans.size();
  const std::size_t minimum = l2 + kIpHeader + kUdpHeader + kPayload;
  const std::size_t total = std::max(spec.frame_size, minimum);
  const std::size_t udp_len = total - l2 - kIpHeader;

  std::vector<std::uint8_t> ip;
  ip.reserve(total - l2);
  ip.push_back(0x45);
  ip.push_back(0);
  put16(ip, static_cast<std::uint16_t>(kIpHeader + udp_len));
  put16(ip, static_cast<std::uint16_t>(seq));  // identification
  put16(ip, 0x4000);                          // don't fragment
  ip.push_back(64);
  ip.push_back(17);  // UDP
  put16(ip, 0);      // checksum, below
  put32(ip, spec.src_ip);
  put32(ip, spec.dst_ip);
  const std::uint16_t checksum = ip_checksum(ip);
  ip[10] = static_cast<std::uint8_t>(checksum >> 8);
  ip[11] = static_cast<std::uint8_t>(checksum);
  put16(ip, spec.src_port);
  put16(ip, spec.dst_port);
  put16(ip, static_cast<std::uint16_t>(udp_len));
  put16(ip, 0);  // no UDP checksum (allowed for IPv4)
  put32(ip, kMagic);
  put32(ip, spec.flow);
  put32(ip, static_cast<std::uint32_t>(seq >> 32));
  put32(ip, static_cast<std::uint32_t>(seq));
  ip.resize(total - l2, 0);

  FrameBuilder builder;
  builder.dst(spec.dst).src(spec.src).ethertype(0x0800).payload(std::move(ip)).min_size(0);
  for (std::size_t i = 0; i < spec.vlans.size(); ++i)
    builder.tag(spec.vlans[i], spec.vlans.size() > 1 && i == 0 ? kTpid8021AD : kTpid8021Q);
  return builder.build();
}

std::optional<TestPayload> parse_frame(std::span<const std::uint8_t> f) {
  std::size_t at = 12;
  // Tags left in the data (a second tag, or a tag the kernel did not take out).
  while (f.size() >= at + 4 && (f[at] == 0x81 || f[at] == 0x88) && (f[at + 1] == 0x00 || f[at + 1] == 0xa8)) at += 4;
  if (f.size() < at + 2 || f[at] != 0x08 || f[at + 1] != 0x00) return std::nullopt;
  const std::size_t ip = at + 2;
  if (f.size() < ip + kIpHeader + kUdpHeader + kPayload || f[ip + 9] != 17) return std::nullopt;
  const std::size_t payload = ip + static_cast<std::size_t>(f[ip] & 0x0f) * 4 + kUdpHeader;
  if (f.size() < payload + kPayload || get32(f, payload) != kMagic) return std::nullopt;
  return TestPayload{get32(f, payload + 4),
                     static_cast<std::uint64_t>(get32(f, payload + 8)) << 32 | get32(f, payload + 12)};
}

std::optional<std::uint32_t> parse_ipv4(const char* text) {
  in_addr addr{};
  if (inet_pton(AF_INET, text, &addr) != 1) return std::nullopt;
  return ntohl(addr.s_addr);
}

}  // namespace vmq::testnet
