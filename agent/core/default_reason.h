// Why a frame went to the default queue (the host's switch), in core's own
// terms; os/abi_conversions.h maps the classifier's numbers onto it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/default_reasons.h"

namespace vmq {

enum class DefaultReason : std::uint8_t {
  no_filter,
  queue_not_running,
  broadcast_multicast,
  malformed,
  empty_slot,
  oversize,
};

inline constexpr std::size_t kDefaultReasonCount = kDefaultReasonNames.size();
inline constexpr std::array<DefaultReason, kDefaultReasonCount> kDefaultReasons = {
    DefaultReason::no_filter,  DefaultReason::queue_not_running, DefaultReason::broadcast_multicast,
    DefaultReason::malformed, DefaultReason::empty_slot,        DefaultReason::oversize,
};

constexpr std::size_t index_of(DefaultReason reason) { return static_cast<std::size_t>(reason); }

// Stable names of the default queue's reasons, as in the JSON output and the metrics.
constexpr std::string_view to_string(DefaultReason reason) { return kDefaultReasonNames[index_of(reason)]; }

}  // namespace vmq
