#pragma once

#include <optional>
#include <string_view>

#include "base/default_reasons.h"
#include "vmq/abi.h"

namespace vmq {

static_assert(kDefaultReasonNames.size() == VMQ_DEFAULT_REASON_COUNT,
              "base/default_reasons.h names every reason of the classifier's ABI");

// Stable names of the default queue's reasons, as in the JSON output.
inline std::string_view to_string(vmq_default_reason reason) {
  if (reason >= VMQ_DEFAULT_REASON_COUNT) return "unknown";
  return kDefaultReasonNames[reason];
}

}  // namespace vmq
