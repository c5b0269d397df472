// The filters a benchmark classifier holds, the frames that hit or miss them,
// and their installation in the production classifier.
#pragma once

#include <cstdint>
#include <vector>

#include "core/error.h"
#include "os/classifier.h"
#include "support/xsk_placeholder.h"
#include "vmq/abi.h"

namespace vmq::bench {

// The limits every benchmark classifier is loaded with.
inline constexpr std::uint32_t kMaxFilters = 65536;
inline constexpr std::uint32_t kMaxQueues = 4096;
inline constexpr std::size_t kFrameBytes = 64;

struct FilterSpec {
  vmq_filter_key key;
  std::uint32_t queue_id;
  std::uint32_t filter_id;
};

using Frame = std::vector<std::uint8_t>;

// Filter i: MAC 52:54:00:00:<i high>:<i low>, VLAN 1 + i % 4094,
// queue 1 + i % (max_queues - 1), filter id i + 1.
std::vector<FilterSpec> make_filters(std::uint32_t count, std::uint32_t max_queues);

// `flows` filters spread evenly over `filters` (repeating when there are fewer).
std::vector<FilterSpec> pick_hit_filters(const std::vector<FilterSpec>& filters, std::uint32_t flows);

// A 64-byte 802.1Q-tagged frame to the key's MAC and VLAN.
Frame tagged_frame_to(const vmq_filter_key& key);

// A 64-byte tagged frame to a unicast MAC no filter of make_filters() holds.
Frame unknown_unicast_frame();

struct InstalledFilters {
  std::vector<Frame> hit_frames;        // one per flow
  std::vector<std::uint32_t> hit_queues; // the queues those frames reach
  Frame miss_frame;
};

// Writes `count` filters: every queue they use RUNNING in trunk mode, and a
// socket (kept in `sockets`) in the slot of each queue a hit frame reaches.
Result<InstalledFilters> install_filters(os::Classifier& classifier, std::uint32_t count, std::uint32_t flows,
                                         std::vector<test::XskPlaceholder>& sockets);

}  // namespace vmq::bench
