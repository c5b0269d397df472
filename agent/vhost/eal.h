// DPDK's Environment Abstraction Layer, which rte_vhost needs for its memory
// and threads, started once per process on first use, inside a daemon that
// is not a DPDK application: no hugepages, no PCI scan, no shared runtime
// files, no telemetry socket, its log routed to vmqd's.
#pragma once

#include "core/error.h"
#include "core/log.h"

namespace vmq::vhost {

// Starts the EAL unless it has started; a failure is remembered (DPDK
// cannot start its EAL twice in one process). The calling thread keeps its
// CPU affinity.
Result<void> ensure_eal(const LogSink& log);

}  // namespace vmq::vhost
