// The kernel's CPU list syntax ("0-3,8,10-11"), as in
// /sys/devices/system/cpu/online and vmqd's `cpus` key.
#pragma once

#include <set>
#include <string_view>

#include "core/error.h"

namespace vmq {

// CPUs 0..4095; trailing newlines and spaces are ignored, an empty list is
// the empty set.
Result<std::set<unsigned>> parse_cpu_list(std::string_view text);

}  // namespace vmq
