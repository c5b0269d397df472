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

// The folded ones'-complement sum of big-endian words (an odd last byte padded).
std::uint16_t folded_sum(std::span<const std::uint8_t> bytes, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i < bytes.size(); i += 2)
    sum += static_cast<std::uint32_t>(bytes[i] << 8 | (i + 1 < bytes.size() ? bytes[i + 1] : 0));
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

std::uint16_t ip_checksum(std::span<const std::uint8_t> header) { return static_cast<std::uint16_t>(~folded_sum(header)); }

// The IPv4 pseudo-header sum of a UDP datagram, from its IP header.
std::uint16_t udp_pseudo_sum(std::span<const std::uint8_t> ip, std::size_t udp_len) {
  return folded_sum(ip.subspan(12, 8), 17 + static_cast<std::uint32_t>(udp_len));
}

std::size_t ipv4_offset(std::span<const std::uint8_t> f) {
  std::size_t at = 12;
  // Tags left in the data (a second tag, or a tag the kernel did not take out).
  while (f.size() >= at + 4 && (f[at] == 0x81 || f[at] == 0x88) && (f[at + 1] == 0x00 || f[at + 1] == 0xa8)) at += 4;
  if (f.size() < at + 2 || f[at] != 0x08 || f[at + 1] != 0x00) return 0;
  return at + 2;
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
  put16(ip, 0);  // no UDP checksum (allowed for IPv4); filled in below if asked for
  put32(ip, kMagic);
  put32(ip, spec.flow);
  put32(ip, static_cast<std::uint32_t>(seq >> 32));
  put32(ip, static_cast<std::uint32_t>(seq));
  ip.resize(total - l2, 0);
  if (spec.checksum != UdpChecksum::none) {
    const std::uint16_t pseudo = udp_pseudo_sum(ip, udp_len);
    std::uint16_t field = pseudo;  // deferred: what a sender with checksum offload leaves
    if (spec.checksum == UdpChecksum::complete) {
      field = static_cast<std::uint16_t>(~folded_sum(std::span(ip).subspan(kIpHeader), pseudo));
      if (field == 0) field = 0xffff;
    }
    ip[kIpHeader + 6] = static_cast<std::uint8_t>(field >> 8);
    ip[kIpHeader + 7] = static_cast<std::uint8_t>(field);
  }

  FrameBuilder builder;
  builder.dst(spec.dst).src(spec.src).ethertype(0x0800).payload(std::move(ip)).min_size(0);
  for (std::size_t i = 0; i < spec.vlans.size(); ++i)
    builder.tag(spec.vlans[i], spec.vlans.size() > 1 && i == 0 ? kTpid8021AD : kTpid8021Q);
  return builder.build();
}

std::optional<TestPayload> parse_frame(std::span<const std::uint8_t> f) {
  const std::size_t ip = ipv4_offset(f);
  if (ip == 0 || f.size() < ip + kIpHeader + kUdpHeader + kPayload || f[ip + 9] != 17) return std::nullopt;
  const std::size_t payload = ip + static_cast<std::size_t>(f[ip] & 0x0f) * 4 + kUdpHeader;
  if (f.size() < payload + kPayload || get32(f, payload) != kMagic) return std::nullopt;
  return TestPayload{get32(f, payload + 4),
                     static_cast<std::uint64_t>(get32(f, payload + 8)) << 32 | get32(f, payload + 12)};
}

ChecksumCheck check_udp_checksum(std::span<const std::uint8_t> f) {
  const std::size_t ip = ipv4_offset(f);
  if (ip == 0 || f.size() < ip + kIpHeader + kUdpHeader) return ChecksumCheck::invalid;
  const std::size_t udp = ip + static_cast<std::size_t>(f[ip] & 0x0f) * 4;
  const std::size_t udp_len = static_cast<std::size_t>(f[udp + 4] << 8 | f[udp + 5]);
  if (f.size() < udp + udp_len) return ChecksumCheck::invalid;
  if (f[udp + 6] == 0 && f[udp + 7] == 0) return ChecksumCheck::none;
  const std::uint16_t pseudo = udp_pseudo_sum(f.subspan(ip), udp_len);
  return folded_sum(f.subspan(udp, udp_len), pseudo) == 0xffff ? ChecksumCheck::valid : ChecksumCheck::invalid;
}

std::optional<std::uint32_t> parse_ipv4(const char* text) {
  in_addr addr{};
  if (inet_pton(AF_INET, text, &addr) != 1) return std::nullopt;
  return ntohl(addr.s_addr);
}

}  // namespace vmq::testnet
