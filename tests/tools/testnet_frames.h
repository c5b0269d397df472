// The frames vmq-testnet sends and recognises: Ethernet, any VLAN tags,
// IPv4, UDP, and a payload carrying a magic word, a flow id and a sequence
// number, so a receiver can tell test frames apart and find gaps.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/mac_address.h"

namespace vmq::testnet {

inline constexpr std::uint32_t kMagic = 0x564d5154;  // "VMQT"

// The UDP checksum a frame carries: none (0, allowed over IPv4), complete, or
// deferred as a sender with checksum offload leaves it (the pseudo-header sum).
enum class UdpChecksum { none, complete, deferred };

struct StreamSpec {
  MacAddress dst;
  MacAddress src;
  std::vector<std::uint16_t> vlans;  // outer first; two tags make an 802.1ad outer tag
  std::uint32_t src_ip = 0;          // host order
  std::uint32_t dst_ip = 0;
  std::uint16_t src_port = 40000;
  std::uint16_t dst_port = 9;
  std::uint32_t flow = 0;
  std::size_t frame_size = 64;  // without FCS; at least the headers
  UdpChecksum checksum = UdpChecksum::none;
};

std::vector<std::uint8_t> build_frame(const StreamSpec& spec, std::uint64_t seq);

struct TestPayload {
  std::uint32_t flow;
  std::uint64_t seq;
};

// Finds the test payload in an untagged frame (AF_PACKET hands tags out of band).
std::optional<TestPayload> parse_frame(std::span<const std::uint8_t> frame);

// The state of a test frame's UDP checksum as a receiver checks it: none,
// complete (it verifies) or anything else (deferred or wrong: it does not).
enum class ChecksumCheck { none, valid, invalid };
ChecksumCheck check_udp_checksum(std::span<const std::uint8_t> frame);

std::optional<std::uint32_t> parse_ipv4(const char* text);

}  // namespace vmq::testnet
