// vmqd's saved state: every queue and filter, so that a restart re-creates
// them. Written atomically (a temporary file, fsync, rename, fsync of the
// directory): a crash leaves the old state or the new one, never half.
#pragma once

#include <string>
#include <vector>

#include "core/error.h"
#include "core/queue.h"

namespace vmq::service {

// Format 2 names a queue's pause "paused_by_operator", as the control API
// does; format 1's "paused" is still read.
inline constexpr int kStateFormatVersion = 2;

struct SavedQueue {
  Queue queue;
  std::vector<Filter> filters;
};

class StateStore {
 public:
  explicit StateStore(std::string directory) : directory_(std::move(directory)) {}

  std::string path() const { return directory_ + "/state.json"; }
  // Nothing saved yet is an empty list. A file that cannot be read, is not
  // vmq state, or comes from a newer format is refused and left untouched.
  Result<std::vector<SavedQueue>> load() const;
  Result<void> save(const std::vector<SavedQueue>& queues) const;

 private:
  std::string directory_;
};

}  // namespace vmq::service
