#pragma once

#include <optional>
#include <string_view>

#include "vmq/abi.h"

namespace vmq {

// Stable names of the default queue's reasons, as in the JSON output.
inline std::string_view to_string(vmq_default_reason reason) {
  switch (reason) {
    case VMQ_DEFAULT_NO_FILTER: return "no_filter";
    case VMQ_DEFAULT_QUEUE_NOT_RUNNING: return "queue_not_running";
    case VMQ_DEFAULT_BROADCAST_MULTICAST: return "broadcast_multicast";
    case VMQ_DEFAULT_MALFORMED: return "malformed";
    case VMQ_DEFAULT_EMPTY_SLOT: return "empty_slot";
    case VMQ_DEFAULT_OVERSIZE: return "oversize";
    case VMQ_DEFAULT_REASON_COUNT: break;
  }
  return "unknown";
}

}  // namespace vmq
