// The dataplane's trace seam: where the loaded classifier would send a frame.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/default_reason.h"
#include "core/error.h"
#include "core/filter.h"

namespace vmq {

// Where the loaded classifier would send a frame, and why, as the classifier
// itself decided it in one run.
struct TraceVerdict {
  enum class Destination { default_queue, queue } destination = Destination::default_queue;
  std::optional<DefaultReason> reason;  // when it goes to the default queue
  // The filter the frame's key matched and that filter's queue, 0 when none
  // matched or the frame went before the lookup (malformed, group address):
  // the queue it was redirected to, or the one it would have gone to (not
  // running, too long for its buffer, no socket on the rx queue).
  QueueId queue = 0;
  FilterId filter = 0;
  std::vector<std::uint8_t> frame;  // as it would leave the classifier
};

class FrameTracer {
 public:
  virtual ~FrameTracer() = default;

  // Runs a frame through the uplink's classifier as if it arrived on `rxq`,
  // without moving the live counters.
  virtual Result<TraceVerdict> trace(std::string_view uplink, std::span<const std::uint8_t> frame,
                                     std::uint32_t rxq) = 0;
};

}  // namespace vmq
