// One uplink as the dataplane runs it: its classifier attached through
// libxdp, its UMEM, the queues and filters in the classifier's tables, the
// health of the attachment, and, for traces, a second instance of the
// classifier that reads the live tables but counts apart and records its
// decisions (loaded on first use).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "core/attach_policy.h"
#include "core/frame_tracer.h"
#include "core/log.h"
#include "core/telemetry.h"
#include "os/classifier.h"
#include "os/uplink_umem.h"
#include "os/xdp_attachment.h"

namespace vmq::os {

class VmQueuePath;

struct UplinkSettings {
  std::uint32_t umem_frames_per_rxq = 4096;
  AttachPolicy attach_policy = AttachPolicy::automatic;
  std::uint32_t max_queues = 64;  // VM queue ids 1..max_queues
  std::uint32_t max_filters = 1024;
  std::uint32_t max_sub_queues = 1;  // per queue (VMMQ): the classifier's rows per queue
};

class UplinkRuntime {
 public:
  // Attaches a classifier built for the device's MTU and creates the UMEM.
  static Result<std::unique_ptr<UplinkRuntime>> attach(const std::string& name, const UplinkSettings& settings,
                                                       const LogSink& log);
  ~UplinkRuntime();  // the UMEM, then the XDP attachment, then the program
  UplinkRuntime(const UplinkRuntime&) = delete;
  UplinkRuntime& operator=(const UplinkRuntime&) = delete;

  const std::string& name() const { return name_; }
  unsigned rx_queues() const { return rx_queues_; }
  UplinkUmem& umem() { return *umem_; }
  UplinkInfo info() const;

  // Zeroes the queue's classified counters (before its sub-queues connect).
  Result<void> reset_queue_traffic(QueueId queue);
  // Puts a sub-queue's sockets in its XSKMAP slots; on failure no slot of
  // the sub-queue holds a socket.
  Result<void> connect_sub_queue(QueueId queue, unsigned sub_queue, const VmQueuePath& path);
  // Empties a sub-queue's XSKMAP slots: the classifier sends it nothing more.
  void disconnect_sub_queue(QueueId queue, unsigned sub_queue);
  std::uint32_t max_sub_queues() const;
  Result<void> publish_queue(QueueId queue, VlanMode vlan_mode, vmq_queue_state state, unsigned sub_queues);
  // The hit counter of `filter` starts from zero.
  Result<void> install_filter(const FilterMatch& match, QueueId queue, FilterId filter);
  Result<void> remove_filter(const FilterMatch& match);

  Result<Traffic> queue_traffic(QueueId queue) const;
  Result<std::uint64_t> filter_hits(FilterId filter) const;
  Result<DefaultQueueStats> default_queue_stats() const;
  UmemStats umem_stats() const { return umem_->stats(); }
  Result<ClassifierTables> classifier_tables() const;

  // Where the classifier would send `frame` arriving on `rxq`, as the trace
  // instance decided it; the live counters do not move.
  Result<TraceVerdict> trace(std::span<const std::uint8_t> frame, std::uint32_t rxq);
  // Re-checks that the uplink still runs our program on the rx queues it
  // was set up for; true when that changed since the last check.
  bool check_attachment();

 private:
  UplinkRuntime(std::string name, int ifindex, unsigned rx_queues, unsigned mtu)
      : name_(std::move(name)), ifindex_(ifindex), rx_queues_(rx_queues), mtu_(mtu) {}
  Result<void> attach_classifier(const UplinkSettings& settings, const LogSink& log);
  Result<void> attach_build(const UplinkSettings& settings, const LogSink& log, bool multi_buffer,
                            bool generic_fallback);

  std::string name_;
  int ifindex_;
  unsigned rx_queues_;
  unsigned mtu_;
  std::optional<Classifier> classifier_;
  std::optional<XdpAttachment> attachment_;
  std::unique_ptr<UplinkUmem> umem_;
  std::optional<Classifier> shadow_;  // for trace, loaded on first use
  std::string degraded_;  // why the uplink does not classify, if it does not
};

}  // namespace vmq::os
