// Case "subqueues" (VMMQ, docs/rebalancing.md): one VM receiving many IP
// flows (the generator rotates 16 UDP source ports), its queue with one
// sub-queue on the CPU the generator does not use, vs two sub-queues, one
// on each CPU. Each round measures, in alternating order, the frames per
// second reaching the VM's eth0, how the two sub-queues shared the frames,
// and the CPUs' busy shares as vmqd measured them.
#pragma once

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "options.h"

namespace vmq::bench {

Result<nlohmann::json> run_subqueues_case(const Options& options);

}  // namespace vmq::bench
