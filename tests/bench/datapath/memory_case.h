// Case "memory": vmqd's resident memory (VmRSS and its parts, from
// /proc/PID/status) with 0 queues and then with each count of
// --memory-queues, queues added one by one with vmqctl on plain veth ports.
// The UMEM (frames x 4 KiB per uplink rx queue, populated at start) is
// reported apart: it is fixed per uplink, whatever the number of queues.
#pragma once

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "options.h"

namespace vmq::bench {

Result<nlohmann::json> run_memory_case(const Options& options);

}  // namespace vmq::bench
