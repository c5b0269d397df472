#include "core/id_allocator.h"

namespace vmq {

std::optional<std::uint32_t> IdAllocator::acquire() {
  std::uint32_t candidate = first_;
  for (std::uint32_t id : used_) {  // ascending: the first gap is the lowest free id
    if (id != candidate) break;
    ++candidate;
  }
  if (candidate > last_) return std::nullopt;
  used_.insert(candidate);
  return candidate;
}

bool IdAllocator::acquire(std::uint32_t id) {
  if (id < first_ || id > last_) return false;
  return used_.insert(id).second;
}

}  // namespace vmq
