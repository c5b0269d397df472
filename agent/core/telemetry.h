// The dataplane's telemetry seam: what views, stats and metrics read. Reads
// never change what the dataplane does; a counter that cannot be read is an
// error, never a zero.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/default_reason.h"
#include "core/error.h"
#include "core/filter.h"
#include "core/queue_state.h"
#include "core/worker_load.h"

namespace vmq {

struct UplinkInfo {
  std::string name;
  std::uint32_t rx_queues = 1;
  std::string attach_mode;    // "native" or "generic"
  std::string attach_method;  // "libxdp-dispatcher", "bpf-link", "netlink"
  std::uint32_t program_id = 0;
  bool degraded = false;      // our program is no longer the one attached
  std::string degraded_reason;
  std::uint32_t max_frame_len = 0;
  std::uint32_t mtu = 0;      // the uplink's MTU when the classifier was loaded
  bool multi_buffer = false;  // the classifier build for frames spanning buffers (MTU above 1500)
};

struct Traffic {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
};

struct DefaultQueueStats {
  std::array<Traffic, kDefaultReasonCount> by_reason{};  // by index_of(DefaultReason)
};

// One sub-queue's part of its queue's counters (VMMQ; a queue of one has one).
struct SubQueueStats {
  unsigned cpu = 0;
  std::uint64_t received = 0;
  Traffic delivered;
  std::uint64_t dropped = 0;  // the port was full or refused, or the quota was held
  int worker_tid = 0;
};

// The VM's other traffic on its port's leg in the host's bridge (a
// vhost-user port): broadcast, multicast and unmatched frames, and what the
// guest transmits.
struct LegStats {
  std::uint64_t to_guest = 0;
  std::uint64_t to_guest_refused = 0;  // no guest connected, or its RX ring full
  std::uint64_t from_guest = 0;
};

struct QueueStats {
  Traffic classified;                   // sent to the queue by the classifier
  std::uint64_t received = 0;           // taken from the queue's RX rings by its worker
  Traffic delivered;                    // transmitted on the VM's port (TX completed)
  std::uint64_t checksum_completed = 0; // frames whose deferred TCP/UDP checksum vmq completed
  std::uint64_t dropped_port_full = 0;  // the port's TX ring had no room
  std::uint64_t dropped_quota = 0;      // the queue held its quota of frames in flight
  std::uint64_t dropped_port_refused = 0;  // the port dropped the frame at transmit (no carrier, receiver full)
  std::uint64_t port_errors = 0;        // transmit kicks the port refused (down, gone)
  std::uint64_t in_flight = 0;          // submitted to the port, not yet completed
  // The kernel's XDP_STATISTICS, summed over the queue's sockets.
  std::uint64_t xsk_rx_dropped = 0;
  std::uint64_t xsk_rx_ring_full = 0;
  std::uint64_t xsk_rx_fill_ring_empty = 0;
  std::uint64_t xsk_rx_invalid_descs = 0;
  std::uint64_t xsk_tx_invalid_descs = 0;
  int worker_tid = 0;  // the thread serving the queue (its first sub-queue), 0 while it has none
  std::vector<SubQueueStats> sub_queues;  // in sub-queue order
  std::optional<LegStats> leg;            // a port with a leg only
};

// A queue's counters from its sub-queues' (each with the CPU serving it):
// the sums, and each sub-queue's own figures in sub_queues.
QueueStats sum_of_sub_queues(const std::vector<std::pair<unsigned, QueueStats>>& parts);

// UMEM accounting of one uplink. Every frame is in the kernel (a fill ring,
// an RX ring), in flight (a port's TX ring, awaiting completion), held by a
// worker for an instant, or lost; once traffic stops, frames_in_worker and
// frames_lost are 0 and fill_ring_entries (read from the rings themselves)
// equals frames_in_kernel minus what sits in RX rings.
struct UmemStats {
  std::uint64_t frames_total = 0;
  std::uint64_t frames_in_kernel = 0;   // put in fill rings, not yet taken from an RX ring
  std::uint64_t frames_in_flight = 0;   // submitted to a port, not yet completed
  std::uint64_t frames_in_worker = 0;   // total minus all of the above
  std::uint64_t frames_lost = 0;        // never coming back (should stay 0)
  std::uint64_t fill_ring_entries = 0;  // frames the kernel has yet to consume from the fill rings
};

// What an uplink's classifier tables hold, read from the kernel's maps.
struct ClassifierTables {
  std::uint32_t filters = 0;
  std::uint32_t queues = 0;  // queue entries in use (any state but undefined)
};

class Telemetry {
 public:
  virtual ~Telemetry() = default;

  virtual std::vector<UplinkInfo> uplinks() const = 0;
  virtual Result<QueueStats> queue_stats(QueueId queue) const = 0;
  virtual Result<std::uint64_t> filter_hits(std::string_view uplink, FilterId filter) const = 0;
  virtual Result<DefaultQueueStats> default_queue_stats(std::string_view uplink) const = 0;
  virtual Result<UmemStats> umem_stats(std::string_view uplink) const = 0;
  virtual Result<ClassifierTables> classifier_tables(std::string_view uplink) const = 0;
  // Every running worker's totals.
  virtual std::vector<WorkerSample> worker_samples() const = 0;
};

}  // namespace vmq
