// What a VMQ filter may match (vmq-spec F5): a unicast, nonzero destination
// MAC and either one VLAN id or "untagged or VID 0". The agent checks filters
// with these rules, and so do its clients before they ask.
#pragma once

#include <cstdint>

#include "base/error.h"
#include "base/mac_address.h"

namespace vmq {

using QueueId = std::uint32_t;
using FilterId = std::uint32_t;

// The classifier's ABI (vmq/abi.h) has the same numbers; core asserts it.
inline constexpr std::uint16_t kVlanUntaggedOrZero = 0;
inline constexpr std::uint16_t kVlanMin = 1;
inline constexpr std::uint16_t kVlanMax = 4094;
// A frame's tag may carry any 12-bit id: 0 (a priority tag) to 4095.
inline constexpr std::uint16_t kFrameVlanMax = 4095;

Result<void> check_filter_mac(const MacAddress& mac);
Result<std::uint16_t> check_filter_vlan(long vlan);

}  // namespace vmq
