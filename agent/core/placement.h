// Which CPUs may serve queues, and which one a new queue gets.
#pragma once

#include <map>
#include <set>
#include <string>

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

 private:
  std::set<unsigned> usable_;
  std::set<unsigned> online_;
  std::string describe() const;
};

}  // namespace vmq
