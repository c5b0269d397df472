// Which CPUs may serve queues, and which one a new queue gets.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"

namespace vmq {

class Placement {
 public:
  // `allowed`: the configured CPUs (empty: all online); `online`: the
  // kernel's online CPUs.
  Placement(std::set<unsigned> allowed, std::set<unsigned> online);

  const std::set<unsigned>& cpus() const { return usable_; }
  Result<unsigned> check(unsigned cpu) const;
  // The usable CPU serving the fewest queues (lowest number on a tie).
  unsigned least_loaded(const std::map<unsigned, unsigned>& queues_per_cpu) const;
  // `count` different usable CPUs, the least loaded first.
  Result<std::vector<unsigned>> least_loaded(unsigned count, const std::map<unsigned, unsigned>& queues_per_cpu) const;
  // Each CPU usable, none twice.
  Result<void> check_distinct(const std::vector<unsigned>& cpus) const;

 private:
  std::set<unsigned> usable_;
  std::set<unsigned> online_;
  std::string describe() const;
};

}  // namespace vmq
