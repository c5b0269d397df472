#include "core/frame_builder.h"

#include <algorithm>

namespace vmq {
namespace {

void put_be16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xff));
}

}  // namespace

FrameBuilder& FrameBuilder::dst(const MacAddress& mac) {
  dst_ = mac;
  return *this;
}

FrameBuilder& FrameBuilder::src(const MacAddress& mac) {
  src_ = mac;
  return *this;
}

FrameBuilder& FrameBuilder::tag(std::uint16_t vid, std::uint16_t tpid, std::uint8_t pcp) {
  tags_.push_back({tpid, static_cast<std::uint16_t>((pcp & 0x7) << 13 | (vid & 0x0fff))});
  return *this;
}

FrameBuilder& FrameBuilder::ethertype(std::uint16_t type) {
  ethertype_ = type;
  return *this;
}

FrameBuilder& FrameBuilder::payload(std::vector<std::uint8_t> bytes) {
  payload_ = std::move(bytes);
  return *this;
}

FrameBuilder& FrameBuilder::min_size(std::size_t bytes) {
  min_size_ = bytes;
  return *this;
}

std::vector<std::uint8_t> FrameBuilder::build() const {
  std::vector<std::uint8_t> out;
  out.reserve(std::max(min_size_, 14 + 4 * tags_.size() + payload_.size()));
  out.insert(out.end(), dst_.bytes().begin(), dst_.bytes().end());
  out.insert(out.end(), src_.bytes().begin(), src_.bytes().end());
  for (const Tag& t : tags_) {
    put_be16(out, t.tpid);
    put_be16(out, t.tci);
  }
  put_be16(out, ethertype_);
  out.insert(out.end(), payload_.begin(), payload_.end());
  if (out.size() < min_size_) out.resize(min_size_, 0);
  return out;
}

}  // namespace vmq
