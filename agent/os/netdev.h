// Facts about network devices and CPUs, read from the kernel.
#pragma once

#include <set>
#include <string>

#include "core/error.h"

namespace vmq::os {

Result<int> ifindex_of(const std::string& ifname);
// The device's MTU.
Result<unsigned> mtu_of(const std::string& ifname);
// The device's active rx queues (real_num_rx_queues).
Result<unsigned> rx_queue_count(const std::string& ifname);
Result<std::set<unsigned>> online_cpus();

}  // namespace vmq::os
