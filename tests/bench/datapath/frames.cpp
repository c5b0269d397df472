#include "frames.h"

#include "testnet_frames.h"

namespace vmq::bench {

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
  // vmq-testnet's frame: IPv4 10.77.0.1 -> 198.51.100.1 (TEST-NET-2), UDP to
  // the discard port.
  testnet::StreamSpec spec{.dst = flow.mac,
                           .src = source,
                           .vlans = {flow.vlan},
                           .src_ip = 0x0a4d0001,
                           .dst_ip = 0xc6336401,
                           .frame_size = kFrameBytes};
  return testnet::build_frame(spec, 0);
}

}  // namespace vmq::bench
