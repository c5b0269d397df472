#include "core/telemetry.h"

namespace vmq {

QueueStats sum_of_sub_queues(const std::vector<std::pair<unsigned, QueueStats>>& parts) {
  QueueStats sum;
  for (const auto& [cpu, part] : parts) {
    sum.classified.packets += part.classified.packets;
    sum.classified.bytes += part.classified.bytes;
    sum.received += part.received;
    sum.delivered.packets += part.delivered.packets;
    sum.delivered.bytes += part.delivered.bytes;
    sum.checksum_completed += part.checksum_completed;
    sum.dropped_port_full += part.dropped_port_full;
    sum.dropped_quota += part.dropped_quota;
    sum.dropped_port_refused += part.dropped_port_refused;
    sum.port_errors += part.port_errors;
    sum.in_flight += part.in_flight;
    sum.xsk_rx_dropped += part.xsk_rx_dropped;
    sum.xsk_rx_ring_full += part.xsk_rx_ring_full;
    sum.xsk_rx_fill_ring_empty += part.xsk_rx_fill_ring_empty;
    sum.xsk_rx_invalid_descs += part.xsk_rx_invalid_descs;
    sum.xsk_tx_invalid_descs += part.xsk_tx_invalid_descs;
    if (part.leg) {
      LegStats& leg = sum.leg ? *sum.leg : sum.leg.emplace();
      leg.to_guest += part.leg->to_guest;
      leg.to_guest_refused += part.leg->to_guest_refused;
      leg.from_guest += part.leg->from_guest;
    }
    sum.sub_queues.push_back({cpu, part.received, part.delivered,
                              part.dropped_port_full + part.dropped_quota + part.dropped_port_refused,
                              part.worker_tid});
  }
  if (!parts.empty()) sum.worker_tid = parts.front().second.worker_tid;
  return sum;
}

}  // namespace vmq
