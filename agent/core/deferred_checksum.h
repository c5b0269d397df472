// Deferred TCP/UDP checksums in received frames.
//
// A sender with checksum offload (a veth's default, any local sender behind a
// virtual device) hands the kernel a CHECKSUM_PARTIAL skb: the TCP/UDP
// checksum field holds only the sum of the pseudo-header, and the device is
// meant to finish it. XDP sees the bytes but not that flag, so such a frame
// reaches vmq as it was and a guest would drop it. Physical NICs deliver
// complete checksums.
//
// The bytes are all there is to go on: a checksum is deferred when its field
// equals the folded pseudo-header sum. Completing a frame whose complete
// checksum happens to equal that sum (1 in 65,536) is harmless: the sum over
// the segment, taken with the field as it is, gives the same value back.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace vmq {

// Where a deferred checksum lives, as the kernel's csum_start/csum_offset and
// virtio-net's header name it: the sum runs from `start` to `end` (offsets in
// the frame) and is stored at start + offset.
struct DeferredChecksum {
  std::uint32_t start = 0;
  std::uint32_t offset = 0;
  std::uint32_t end = 0;
};

// Finds a deferred TCP or UDP checksum in an Ethernet frame (up to two VLAN
// tags, IPv4 with options, IPv6 with hop-by-hop, routing and destination
// options headers). Frames that are not TCP/UDP, fragments, truncated or
// inconsistent frames, and complete checksums give nullopt. Reads headers only.
std::optional<DeferredChecksum> find_deferred_checksum(std::span<const std::uint8_t> frame);

// Completes the checksum that find_deferred_checksum() found in this frame.
void complete_checksum(std::span<std::uint8_t> frame, const DeferredChecksum& at);

}  // namespace vmq
