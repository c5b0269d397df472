// The kernel's per-CPU time counters (/proc/stat's "cpuN" lines, in
// USER_HZ ticks): what the rebalancer needs of them.
#pragma once

#include <cstdint>
#include <map>
#include <string_view>

#include "core/error.h"

namespace vmq {

// Each CPU's softirq ticks (the seventh field of its line). The "cpu" total
// line and every other line are skipped; a cpuN line without the field is
// an error.
Result<std::map<unsigned, std::uint64_t>> parse_softirq_ticks(std::string_view proc_stat);

}  // namespace vmq
