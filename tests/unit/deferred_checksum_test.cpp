#include "core/deferred_checksum.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

// Shapes are written with designated initializers naming only what differs;
// g++ 12 still warns about the members left to their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace vmq {
namespace {

using Bytes = std::vector<std::uint8_t>;

// A reference Internet checksum written the textbook way (big-endian words),
// independent of the production code's machine-order sum.
std::uint32_t sum_be(const Bytes& b, std::size_t from, std::size_t to, std::uint32_t sum = 0) {
  for (std::size_t i = from; i < to; i += 2) sum += (b[i] << 8) | (i + 1 < to ? b[i + 1] : 0);
  return sum;
}
std::uint16_t fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}
void put16(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}
std::uint16_t get16(const Bytes& b, std::size_t at) { return static_cast<std::uint16_t>(b[at] << 8 | b[at + 1]); }

enum class Ip { v4, v6 };
enum class L4 : std::uint8_t { tcp = 6, udp = 17 };

struct Frame {
  Bytes bytes;
  std::size_t l4 = 0;         // where the segment starts
  std::size_t l4_end = 0;
  std::size_t field = 0;      // where its checksum lives
  std::uint16_t pseudo = 0;   // the folded pseudo-header sum
  std::uint16_t correct = 0;  // the complete checksum
};

struct Shape {
  Ip ip = Ip::v4;
  L4 l4 = L4::udp;
  std::vector<std::uint16_t> tpids;  // VLAN tags, outer first
  std::size_t payload = 100;
  std::size_t ipv4_options = 0;      // bytes, a multiple of 4
  std::vector<std::uint8_t> ipv6_extensions;  // next-header values of 8-byte extension headers
  std::size_t padding = 0;           // Ethernet padding after the IP packet
  std::uint32_t seed = 1;
};

// Builds a frame with a complete checksum and notes where everything is.
Frame build(const Shape& s) {
  std::mt19937 rng(s.seed);
  Frame f;
  Bytes& b = f.bytes;
  b = {0x52, 0x54, 0, 0x77, 0, 1, 0x52, 0x54, 0, 0x77, 0, 0xfe};
  for (std::uint16_t tpid : s.tpids) b.insert(b.end(), {static_cast<std::uint8_t>(tpid >> 8), static_cast<std::uint8_t>(tpid), 0, 100});
  const std::size_t l4_header = s.l4 == L4::tcp ? 20 : 8;
  const std::size_t l4_len = l4_header + s.payload;
  std::size_t l3 = b.size() + 2;
  if (s.ip == Ip::v4) {
    b.insert(b.end(), {0x08, 0x00});
    const std::size_t ihl = 20 + s.ipv4_options;
    Bytes ip(ihl, 0);
    ip[0] = static_cast<std::uint8_t>(0x40 | ihl / 4);
    put16(ip, 2, static_cast<std::uint16_t>(ihl + l4_len));
    ip[8] = 64;
    ip[9] = static_cast<std::uint8_t>(s.l4);
    for (std::size_t i = 12; i < 20; ++i) ip[i] = static_cast<std::uint8_t>(rng());
    for (std::size_t i = 20; i < ihl; ++i) ip[i] = 1;  // NOP options
    put16(ip, 10, static_cast<std::uint16_t>(~fold(sum_be(ip, 0, ihl))));
    b.insert(b.end(), ip.begin(), ip.end());
    f.l4 = l3 + ihl;
    Bytes pseudo(ip.begin() + 12, ip.begin() + 20);
    pseudo.insert(pseudo.end(), {0, static_cast<std::uint8_t>(s.l4), static_cast<std::uint8_t>(l4_len >> 8),
                                 static_cast<std::uint8_t>(l4_len)});
    f.pseudo = fold(sum_be(pseudo, 0, pseudo.size()));
  } else {
    b.insert(b.end(), {0x86, 0xdd});
    const std::size_t ext = 8 * s.ipv6_extensions.size();
    Bytes ip(40 + ext, 0);
    ip[0] = 0x60;
    put16(ip, 4, static_cast<std::uint16_t>(ext + l4_len));
    std::uint8_t next = static_cast<std::uint8_t>(s.l4);
    ip[6] = s.ipv6_extensions.empty() ? next : s.ipv6_extensions[0];
    ip[7] = 64;
    for (std::size_t i = 8; i < 40; ++i) ip[i] = static_cast<std::uint8_t>(rng());
    for (std::size_t e = 0; e < s.ipv6_extensions.size(); ++e) {
      ip[40 + 8 * e] = e + 1 < s.ipv6_extensions.size() ? s.ipv6_extensions[e + 1] : next;
      ip[40 + 8 * e + 1] = 0;  // 8 bytes
      ip[40 + 8 * e + 2] = 1;  // PadN
      ip[40 + 8 * e + 3] = 4;
    }
    b.insert(b.end(), ip.begin(), ip.end());
    f.l4 = l3 + 40 + ext;
    Bytes pseudo(ip.begin() + 8, ip.begin() + 40);
    pseudo.insert(pseudo.end(), {0, 0, static_cast<std::uint8_t>(l4_len >> 8), static_cast<std::uint8_t>(l4_len), 0, 0, 0,
                                 static_cast<std::uint8_t>(s.l4)});
    f.pseudo = fold(sum_be(pseudo, 0, pseudo.size()));
  }
  Bytes seg(l4_len, 0);
  for (auto& x : seg) x = static_cast<std::uint8_t>(rng());
  const std::size_t field = s.l4 == L4::tcp ? 16 : 6;
  if (s.l4 == L4::udp) put16(seg, 4, static_cast<std::uint16_t>(l4_len));
  if (s.l4 == L4::tcp) seg[12] = 0x50;
  put16(seg, field, 0);
  b.insert(b.end(), seg.begin(), seg.end());
  f.l4_end = b.size();
  f.field = f.l4 + field;
  f.correct = static_cast<std::uint16_t>(~fold(sum_be(b, f.l4, f.l4_end, f.pseudo)));
  if (f.correct == 0) f.correct = 0xffff;
  put16(b, f.field, f.correct);
  b.insert(b.end(), s.padding, 0);
  return f;
}

// The same frame as a sender with checksum offload hands it over.
Bytes deferred(const Frame& f) {
  Bytes b = f.bytes;
  put16(b, f.field, f.pseudo);
  return b;
}

bool verifies(const Frame& f, const Bytes& b) { return fold(sum_be(b, f.l4, f.l4_end, f.pseudo)) == 0xffff; }

void expect_completed(const Shape& shape) {
  const Frame f = build(shape);
  Bytes b = deferred(f);
  ASSERT_FALSE(verifies(f, b));
  const auto found = find_deferred_checksum(b);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->start, f.l4);
  EXPECT_EQ(found->start + found->offset, f.field);
  EXPECT_EQ(found->end, f.l4_end);
  complete_checksum(b, *found);
  EXPECT_EQ(get16(b, f.field), f.correct);
  EXPECT_TRUE(verifies(f, b));
  EXPECT_EQ(b, f.bytes);
}

TEST(DeferredChecksum, CompletesUdpOverIPv4) { expect_completed({.ip = Ip::v4, .l4 = L4::udp}); }
TEST(DeferredChecksum, CompletesTcpOverIPv4) { expect_completed({.ip = Ip::v4, .l4 = L4::tcp, .payload = 1448}); }
TEST(DeferredChecksum, CompletesUdpOverIPv6) { expect_completed({.ip = Ip::v6, .l4 = L4::udp, .payload = 1000}); }
TEST(DeferredChecksum, CompletesTcpOverIPv6) { expect_completed({.ip = Ip::v6, .l4 = L4::tcp, .payload = 1428}); }
TEST(DeferredChecksum, CompletesOddLengthSegments) {
  for (std::size_t payload : {0, 1, 3, 7, 9, 15, 17, 63, 1471}) expect_completed({.l4 = L4::udp, .payload = payload});
}
TEST(DeferredChecksum, CompletesBehindVlanTags) {
  expect_completed({.tpids = {0x8100}});
  expect_completed({.ip = Ip::v6, .l4 = L4::tcp, .tpids = {0x88a8, 0x8100}});
}
TEST(DeferredChecksum, CompletesWithIPv4OptionsAndIPv6ExtensionHeaders) {
  expect_completed({.l4 = L4::tcp, .ipv4_options = 12});
  expect_completed({.ip = Ip::v6, .l4 = L4::udp, .ipv6_extensions = {0, 60}});
  expect_completed({.ip = Ip::v6, .l4 = L4::tcp, .ipv6_extensions = {43}});
}
TEST(DeferredChecksum, EthernetPaddingIsNotSummed) { expect_completed({.l4 = L4::udp, .payload = 2, .padding = 14}); }

TEST(DeferredChecksum, CompleteChecksumsAreNeverChanged) {
  for (std::uint32_t seed = 1; seed <= 2000; ++seed) {
    const Frame f = build({.ip = seed % 2 ? Ip::v4 : Ip::v6, .l4 = seed % 3 ? L4::udp : L4::tcp,
                           .payload = seed % 200, .seed = seed});
    Bytes b = f.bytes;
    if (auto found = find_deferred_checksum(b)) complete_checksum(b, *found);
    ASSERT_EQ(b, f.bytes) << "seed " << seed;
  }
}

// A UDP frame whose first two payload bytes (the knob) and checksum field are
// zero; returns the knob's offset and the folded sum of the rest, the
// pseudo-header included. Choosing the knob then chooses the whole sum.
std::pair<std::size_t, std::uint16_t> frame_with_a_knob(Frame& f) {
  f = build({.l4 = L4::udp, .payload = 20});
  const std::size_t knob = f.l4 + 8;
  put16(f.bytes, knob, 0);
  put16(f.bytes, f.field, 0);
  return {knob, fold(sum_be(f.bytes, f.l4, f.l4_end, f.pseudo))};
}

TEST(DeferredChecksum, ACompleteChecksumEqualToThePseudoSumIsFoundAndLeftAsItIs) {
  // Choose two payload bytes so that the complete checksum equals the pseudo-header sum.
  Frame f;
  const auto [knob, rest] = frame_with_a_knob(f);
  // Wanted: rest + knob + field sums to all ones with field = pseudo, i.e. knob = -(rest + pseudo).
  const std::uint16_t knob_value = fold(static_cast<std::uint16_t>(~rest) + static_cast<std::uint16_t>(~f.pseudo));
  put16(f.bytes, knob, knob_value);
  put16(f.bytes, f.field, f.pseudo);
  ASSERT_TRUE(verifies(f, f.bytes));
  const Bytes before = f.bytes;
  auto found = find_deferred_checksum(f.bytes);
  ASSERT_TRUE(found);
  complete_checksum(f.bytes, *found);
  EXPECT_EQ(f.bytes, before);
}

TEST(DeferredChecksum, AUdpChecksumThatSumsToZeroIsStoredAsAllOnes) {
  Frame f;
  const auto [knob, rest] = frame_with_a_knob(f);
  put16(f.bytes, knob, static_cast<std::uint16_t>(~rest));  // the whole sum becomes 0xffff: checksum 0
  Bytes b = f.bytes;
  put16(b, f.field, f.pseudo);
  auto found = find_deferred_checksum(b);
  ASSERT_TRUE(found);
  complete_checksum(b, *found);
  EXPECT_EQ(get16(b, f.field), 0xffff);
  EXPECT_TRUE(verifies(f, b));
}

TEST(DeferredChecksum, UdpWithoutAChecksumIsLeftAlone) {
  Frame f = build({.l4 = L4::udp});
  put16(f.bytes, f.field, 0);
  EXPECT_FALSE(find_deferred_checksum(f.bytes));
}

TEST(DeferredChecksum, FragmentsAreLeftAlone) {
  for (int flags : {0x2000, 0x0001, 0x2010}) {  // MF, an offset, both
    Frame f = build({.l4 = L4::udp});
    Bytes b = deferred(f);
    put16(b, 14 + 6, static_cast<std::uint16_t>(flags));
    EXPECT_FALSE(find_deferred_checksum(b)) << flags;
  }
  EXPECT_FALSE(find_deferred_checksum(deferred(build({.ip = Ip::v6, .ipv6_extensions = {44}}))));
}

TEST(DeferredChecksum, OtherProtocolsAndInconsistentHeadersAreLeftAlone) {
  Frame f = build({.l4 = L4::udp});
  Bytes b = deferred(f);
  b[14 + 9] = 1;  // ICMP
  EXPECT_FALSE(find_deferred_checksum(b));
  b = deferred(f);
  put16(b, 12, 0x0806);  // ARP
  EXPECT_FALSE(find_deferred_checksum(b));
  b = deferred(f);
  put16(b, 14 + 2, static_cast<std::uint16_t>(b.size()));  // total length past the frame
  EXPECT_FALSE(find_deferred_checksum(b));
  b = deferred(f);
  put16(b, f.l4 + 4, 9);  // UDP length disagrees with IP
  EXPECT_FALSE(find_deferred_checksum(b));
  b = deferred(f);
  b[14] = 0x44;  // IHL below 5
  EXPECT_FALSE(find_deferred_checksum(b));
}

TEST(DeferredChecksum, TruncatedFramesAreLeftAloneWithoutReadingPastTheEnd) {
  for (const Shape& s : {Shape{.l4 = L4::tcp}, Shape{.ip = Ip::v6, .l4 = L4::udp, .tpids = {0x8100},
                                                    .ipv6_extensions = {0, 43}}}) {
    const Bytes whole = deferred(build(s));
    for (std::size_t n = 0; n < whole.size(); ++n) {
      const Bytes cut(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n));  // exact size: ASan sees overreads
      EXPECT_FALSE(find_deferred_checksum(cut)) << n;
    }
  }
}

}  // namespace
}  // namespace vmq
