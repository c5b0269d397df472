// The benchmark's traffic: 64-byte 802.1Q-tagged IPv4/UDP frames in flows of
// (destination MAC, VLAN), addressed to no host (198.51.100.1) so that a
// receiving stack drops them cheaply.
#pragma once

#include <cstdint>
#include <vector>

#include "core/mac_address.h"

namespace vmq::bench {

inline constexpr std::size_t kFrameBytes = 64;  // without FCS, as veth carries it

// deploy/lab.sh's addresses: VM n has 52:54:00:77:00:0n, the wire ...:fe; flow
// n uses VLAN 100 + n.
inline constexpr MacAddress kFirstVmMac{MacAddress::Bytes{0x52, 0x54, 0x00, 0x77, 0x00, 0x01}};
inline constexpr MacAddress kWireMac{MacAddress::Bytes{0x52, 0x54, 0x00, 0x77, 0x00, 0xfe}};
inline constexpr std::uint16_t kFirstVlan = 101;

struct Flow {
  MacAddress mac;
  std::uint16_t vlan;
};

// `count` flows: MACs first_mac, first_mac + 1, ... (last octet), VLANs
// first_vlan, first_vlan + 1, ...
std::vector<Flow> make_flows(const MacAddress& first_mac, std::uint16_t first_vlan, unsigned count);

// The frame the generator starts from (its program rewrites MAC and VLAN).
std::vector<std::uint8_t> template_frame(const Flow& flow, const MacAddress& source);

}  // namespace vmq::bench
