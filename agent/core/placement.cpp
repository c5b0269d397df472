#include "core/placement.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace vmq {

Placement::Placement(std::set<unsigned> allowed, std::set<unsigned> online) : online_(std::move(online)) {
  if (allowed.empty()) {
    usable_ = online_;
  } else {
    std::ranges::set_intersection(allowed, online_, std::inserter(usable_, usable_.end()));
  }
}

std::string Placement::describe() const { return fmt::format("{}", fmt::join(usable_, ",")); }

Result<unsigned> Placement::check(unsigned cpu) const {
  if (!online_.contains(cpu))
    return fail(Errc::invalid_argument,
                fmt::format("CPU {} is not online (usable CPUs: {})", cpu, describe()));
  if (!usable_.contains(cpu))
    return fail(Errc::invalid_argument,
                fmt::format("CPU {} is not in the agent's allowed CPUs (usable CPUs: {})", cpu, describe()));
  return cpu;
}

unsigned Placement::least_loaded(const std::map<unsigned, unsigned>& queues_per_cpu) const {
  unsigned best = *usable_.begin();
  unsigned best_load = ~0u;
  for (unsigned cpu : usable_) {
    auto it = queues_per_cpu.find(cpu);
    const unsigned load = it == queues_per_cpu.end() ? 0 : it->second;
    if (load < best_load) {
      best = cpu;
      best_load = load;
    }
  }
  return best;
}

}  // namespace vmq
