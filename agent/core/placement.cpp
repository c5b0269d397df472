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

Result<std::vector<unsigned>> Placement::least_loaded(unsigned count,
                                                     const std::map<unsigned, unsigned>& queues_per_cpu) const {
  if (count > usable_.size())
    return fail(Errc::invalid_argument, fmt::format("{} sub-queues need {} CPUs, but only {} are usable ({})", count,
                                                    count, usable_.size(), describe()));
  std::vector<unsigned> by_load(usable_.begin(), usable_.end());
  auto load = [&](unsigned cpu) {
    auto it = queues_per_cpu.find(cpu);
    return it == queues_per_cpu.end() ? 0u : it->second;
  };
  std::ranges::stable_sort(by_load, {}, load);
  by_load.resize(count);
  return by_load;
}

Result<void> Placement::check_distinct(const std::vector<unsigned>& cpus) const {
  std::set<unsigned> seen;
  for (unsigned cpu : cpus) {
    if (auto ok = check(cpu); !ok) return std::unexpected(ok.error());
    if (!seen.insert(cpu).second)
      return fail(Errc::invalid_argument, fmt::format("CPU {} is given twice: each sub-queue needs a CPU of its own", cpu));
  }
  return {};
}

}  // namespace vmq
