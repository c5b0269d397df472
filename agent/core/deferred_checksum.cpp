#include "core/deferred_checksum.h"

#include <array>
#include <cstring>

#include "core/internet_checksum.h"

namespace vmq {
namespace {

constexpr std::uint16_t kEthertypeIPv4 = 0x0800;
constexpr std::uint16_t kEthertypeIPv6 = 0x86dd;
constexpr std::uint16_t kTpid8021Q = 0x8100;
constexpr std::uint16_t kTpid8021AD = 0x88a8;
constexpr std::uint8_t kProtoTcp = 6;
constexpr std::uint8_t kProtoUdp = 17;
constexpr std::uint32_t kTcpChecksumOffset = 16;
constexpr std::uint32_t kUdpChecksumOffset = 6;
constexpr int kMaxIPv6ExtensionHeaders = 8;

std::uint16_t be16(std::span<const std::uint8_t> f, std::size_t at) {
  return static_cast<std::uint16_t>(f[at] << 8 | f[at + 1]);
}

// The L4 segment of an IP packet: where it starts, how long it is, and the
// pseudo-header sum the sender would have left in its checksum field.
struct Segment {
  std::uint32_t start = 0;
  std::uint32_t length = 0;
  std::uint8_t protocol = 0;
  std::uint16_t pseudo_sum = 0;
};

std::optional<Segment> ipv4_segment(std::span<const std::uint8_t> f, std::uint32_t l3) {
  if (f.size() < l3 + 20) return std::nullopt;
  const std::uint8_t version_ihl = f[l3];
  const std::uint32_t header = (version_ihl & 0x0f) * 4u;
  const std::uint32_t total = be16(f, l3 + 2);
  const bool fragment = (be16(f, l3 + 6) & 0x3fff) != 0;  // MF or an offset
  if (version_ihl >> 4 != 4 || header < 20 || total < header || l3 + total > f.size() || fragment)
    return std::nullopt;
  const std::uint8_t protocol = f[l3 + 9];
  const auto length = static_cast<std::uint16_t>(total - header);
  const std::array<std::uint8_t, 4> tail{0, protocol, static_cast<std::uint8_t>(length >> 8),
                                         static_cast<std::uint8_t>(length)};
  InternetChecksum pseudo;
  pseudo.add(f.subspan(l3 + 12, 8)).add(tail);  // source and destination addresses
  return Segment{l3 + header, length, protocol, pseudo.folded()};
}

std::optional<Segment> ipv6_segment(std::span<const std::uint8_t> f, std::uint32_t l3) {
  if (f.size() < l3 + 40 || f[l3] >> 4 != 6) return std::nullopt;
  const std::uint32_t payload = be16(f, l3 + 4);  // 0 is a jumbogram: not here
  if (payload == 0 || l3 + 40 + payload > f.size()) return std::nullopt;
  std::uint8_t next = f[l3 + 6];
  std::uint32_t at = l3 + 40;
  const std::uint32_t end = l3 + 40 + payload;
  for (int i = 0; i < kMaxIPv6ExtensionHeaders && (next == 0 || next == 43 || next == 60); ++i) {
    if (at + 8 > end) return std::nullopt;
    next = f[at];
    at += (f[at + 1] + 1u) * 8;
  }
  if (at > end) return std::nullopt;
  const std::uint32_t length = end - at;
  const std::array<std::uint8_t, 8> tail{static_cast<std::uint8_t>(length >> 24), static_cast<std::uint8_t>(length >> 16),
                                         static_cast<std::uint8_t>(length >> 8),  static_cast<std::uint8_t>(length),
                                         0, 0, 0, next};
  InternetChecksum pseudo;
  pseudo.add(f.subspan(l3 + 8, 32)).add(tail);  // source and destination addresses
  return Segment{at, length, next, pseudo.folded()};
}

}  // namespace

std::optional<DeferredChecksum> find_deferred_checksum(std::span<const std::uint8_t> frame) {
  if (frame.size() < 14) return std::nullopt;
  std::uint32_t at = 12;
  std::uint16_t type = be16(frame, at);
  for (int tags = 0; tags < 2 && (type == kTpid8021Q || type == kTpid8021AD); ++tags) {
    at += 4;
    if (frame.size() < at + 2) return std::nullopt;
    type = be16(frame, at);
  }
  const std::uint32_t l3 = at + 2;
  std::optional<Segment> segment;
  if (type == kEthertypeIPv4)
    segment = ipv4_segment(frame, l3);
  else if (type == kEthertypeIPv6)
    segment = ipv6_segment(frame, l3);
  if (!segment) return std::nullopt;

  std::uint32_t offset = 0;
  if (segment->protocol == kProtoTcp && segment->length >= 20)
    offset = kTcpChecksumOffset;
  else if (segment->protocol == kProtoUdp && segment->length >= 8 && be16(frame, segment->start + 4) == segment->length)
    offset = kUdpChecksumOffset;
  else
    return std::nullopt;

  std::uint16_t field = 0;
  std::memcpy(&field, frame.data() + segment->start + offset, sizeof field);
  if (field != segment->pseudo_sum) return std::nullopt;
  return DeferredChecksum{segment->start, offset, segment->start + segment->length};
}

void complete_checksum(std::span<std::uint8_t> frame, const DeferredChecksum& at) {
  // The field holds the pseudo-header sum, so the sum over the segment as it
  // is covers the pseudo-header too (the kernel's skb_checksum_help does the same).
  InternetChecksum sum;
  sum.add(frame.subspan(at.start, at.end - at.start));
  std::uint16_t value = static_cast<std::uint16_t>(~sum.folded());
  if (value == 0) value = 0xffff;  // UDP's "no checksum"; the same as 0 for TCP
  std::memcpy(frame.data() + at.start + at.offset, &value, sizeof value);
}

}  // namespace vmq
