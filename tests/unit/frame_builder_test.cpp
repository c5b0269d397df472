#include <gtest/gtest.h>

#include "core/frame_builder.h"

namespace vmq {
namespace {

TEST(FrameBuilder, UntaggedFrameIsPaddedToMinimumSize) {
  auto frame = FrameBuilder().dst(*MacAddress::parse("52:54:00:00:00:01")).build();
  ASSERT_EQ(frame.size(), 60u);
  EXPECT_EQ(frame[0], 0x52);
  EXPECT_EQ(frame[5], 0x01);
  EXPECT_EQ(frame[12], 0x08);
  EXPECT_EQ(frame[13], 0x00);
}

TEST(FrameBuilder, TagsAreWrittenOuterFirst) {
  auto frame = FrameBuilder().tag(100, kTpid8021AD, 5).tag(4094).ethertype(0x86dd).min_size(0).build();
  ASSERT_EQ(frame.size(), 22u);
  const std::vector<std::uint8_t> tags{0x88, 0xa8, 0xa0, 0x64, 0x81, 0x00, 0x0f, 0xfe, 0x86, 0xdd};
  EXPECT_TRUE(std::equal(tags.begin(), tags.end(), frame.begin() + 12));
}

}  // namespace
}  // namespace vmq
