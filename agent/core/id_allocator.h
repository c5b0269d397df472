// Hands out the lowest free id in [first, last]. NDIS assigns queue and
// filter ids from 1 up; an id is reused only after it was released.
#pragma once

#include <cstdint>
#include <optional>
#include <set>

namespace vmq {

class IdAllocator {
 public:
  IdAllocator(std::uint32_t first, std::uint32_t last) : first_(first), last_(last) {}

  std::optional<std::uint32_t> acquire();
  // Takes a specific id (restoring saved state); false if taken or out of range.
  bool acquire(std::uint32_t id);
  // `wanted` if given and free, else (when not given) the lowest free id.
  std::optional<std::uint32_t> acquire(std::optional<std::uint32_t> wanted) {
    if (!wanted) return acquire();
    return acquire(*wanted) ? wanted : std::nullopt;
  }
  void release(std::uint32_t id) { used_.erase(id); }
  bool in_use(std::uint32_t id) const { return used_.contains(id); }
  std::size_t size() const { return used_.size(); }
  std::uint32_t capacity() const { return last_ - first_ + 1; }

 private:
  std::uint32_t first_;
  std::uint32_t last_;
  std::set<std::uint32_t> used_;
};

}  // namespace vmq
