// Case "delivery": frames per second from the wire into 8 VMs, counted at
// each VM's eth0 (rx_packets, in the VM's namespace), through vmqd (8 queues
// made with vmqctl, one worker on the consumer CPU delivering by AF_XDP TX)
// and through the Linux bridge (the same traffic once the queues are
// deleted: vmq's classifier passes every frame on, the bridge forwards it by
// static FDB entries). Each round runs both, in alternating order.
#pragma once

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "options.h"

namespace vmq::bench {

Result<nlohmann::json> run_delivery_case(const Options& options);

// From `vmqctl --json stats`: vmqd's counters summed over the queues
// (classified, taken by the workers, delivered, dropped by vmq and by the
// kernel), the default queue's total and the UMEM frames lost. The
// rebalance case reads the same.
nlohmann::json vmq_counters(const nlohmann::json& stats);

}  // namespace vmq::bench
