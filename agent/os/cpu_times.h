// Each CPU's time in softirq (the kernel's receive and transmit work), since boot.
#pragma once

#include <chrono>
#include <map>

#include "core/error.h"

namespace vmq::os {

Result<std::map<unsigned, std::chrono::nanoseconds>> cpu_softirq_times();

}  // namespace vmq::os
