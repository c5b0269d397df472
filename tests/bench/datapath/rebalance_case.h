// Case "rebalance" (Dynamic VMQ, docs/rebalancing.md): skewed load into the
// delivery case's lab, most frames to vm1 and vm2, with every queue starting
// on the generator's CPU (pinned there by vmqctl, then set to auto), so one
// worker shares that CPU with the generator and the receive softirq while the
// other CPU idles. Each round measures, in alternating order, the frames per
// second reaching the VMs' eth0 with vmqd's rebalancer off and with it on
// (vmqd.toml rewritten, SIGHUP; the window starts once the rebalancer has
// moved queues and the placement has stayed the same for a few seconds, a
// wait that is bounded). Records where each queue ended, the moves, and the
// CPUs' busy shares as vmqd measured them.
#pragma once

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "options.h"

namespace vmq::bench {

Result<nlohmann::json> run_rebalance_case(const Options& options);

}  // namespace vmq::bench
