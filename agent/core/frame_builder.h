// Builds Ethernet frames with any number of VLAN tags: used by `vmqctl trace`
// to describe a frame to the classifier, and by the tests and benchmarks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/mac_address.h"

namespace vmq {

inline constexpr std::uint16_t kTpid8021Q = 0x8100;
inline constexpr std::uint16_t kTpid8021AD = 0x88a8;
inline constexpr std::uint16_t kEthertypeIPv4 = 0x0800;

class FrameBuilder {
 public:
  FrameBuilder& dst(const MacAddress& mac);
  FrameBuilder& src(const MacAddress& mac);
  // Appends a tag after the ones already added: the first call is the outer tag.
  FrameBuilder& tag(std::uint16_t vid, std::uint16_t tpid = kTpid8021Q, std::uint8_t pcp = 0);
  FrameBuilder& ethertype(std::uint16_t type);
  FrameBuilder& payload(std::vector<std::uint8_t> bytes);
  // Pads the frame (without FCS) to at least this many bytes; 60 by default.
  FrameBuilder& min_size(std::size_t bytes);

  std::vector<std::uint8_t> build() const;

 private:
  struct Tag {
    std::uint16_t tpid;
    std::uint16_t tci;
  };
  MacAddress dst_{};
  MacAddress src_{MacAddress::Bytes{0x02, 0, 0, 0, 0, 0x01}};
  std::vector<Tag> tags_;
  std::uint16_t ethertype_ = kEthertypeIPv4;
  std::vector<std::uint8_t> payload_;
  std::size_t min_size_ = 60;
};

}  // namespace vmq
