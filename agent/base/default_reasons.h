// Why a frame went to the default queue (the host's switch): the stable
// names of the JSON output and the metrics, in the classifier's order
// (enum vmq_default_reason; os/abi_conversions.h asserts that the two agree).
#pragma once

#include <array>
#include <string_view>

namespace vmq {

inline constexpr std::array<std::string_view, 6> kDefaultReasonNames = {
    "no_filter", "queue_not_running", "broadcast_multicast", "malformed", "empty_slot", "oversize",
};

}  // namespace vmq
