// The dataplane's health seam: is the classifier still where vmqd put it?
#pragma once

#include <vector>

#include "core/telemetry.h"

namespace vmq {

class AttachmentHealth {
 public:
  virtual ~AttachmentHealth() = default;

  // Re-checks that every uplink still runs our program and still has the rx
  // queues it was set up for; returns the uplinks whose state changed since
  // the last call.
  virtual std::vector<UplinkInfo> check_attachments() = 0;
};

}  // namespace vmq
