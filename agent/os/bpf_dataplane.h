// The Dataplane of a real host: per uplink, the classifier attached through
// libxdp and the UMEM; per VM queue, its sockets; per CPU, a worker.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/dataplane.h"
#include "core/log.h"
#include "os/classifier.h"
#include "os/uplink_umem.h"
#include "os/vm_queue_path.h"
#include "os/worker.h"
#include "os/xdp_attachment.h"

namespace vmq::os {

struct DataplaneConfig {
  std::vector<std::string> uplinks;
  std::uint32_t umem_frames_per_rxq = 4096;
  AttachPolicy attach_policy = AttachPolicy::automatic;
  std::uint32_t max_queues = 64;  // VM queue ids 1..max_queues
  std::uint32_t max_filters = 1024;
};

class BpfDataplane final : public Dataplane {
 public:
  static Result<std::unique_ptr<BpfDataplane>> create(const DataplaneConfig& config, LogSink log);
  ~BpfDataplane() override;

  std::vector<std::string> uplink_names() const override;
  std::vector<UplinkInfo> uplinks() const override;
  Result<void> check_port(std::string_view port) const override;
  Result<void> start_queue(const QueueSpec& spec) override;
  Result<void> publish_queue_state(const QueueSpec& spec, vmq_queue_state state) override;
  Result<void> install_filter(std::string_view uplink, const FilterMatch& match, QueueId queue,
                              FilterId filter) override;
  Result<void> remove_filter(std::string_view uplink, const FilterMatch& match) override;
  Result<void> move_queue(QueueId queue, unsigned cpu) override;
  Result<bool> change_settled(QueueId queue) override;
  Result<DrainProbe> drain_probe(QueueId queue) override;
  void stop_queue(QueueId queue) override;
  Result<QueueStats> queue_stats(QueueId queue) const override;
  Result<std::uint64_t> filter_hits(std::string_view uplink, FilterId filter) const override;
  Result<DefaultQueueStats> default_queue_stats(std::string_view uplink) const override;
  Result<UmemStats> umem_stats(std::string_view uplink) const override;
  Result<ClassifierTables> classifier_tables(std::string_view uplink) const override;

  // Runs the frame through a copy of the uplink's classifier that reads the
  // live tables but counts apart: the live counters do not move.
  Result<TraceVerdict> trace(std::string_view uplink, std::span<const std::uint8_t> frame,
                             std::uint32_t rxq) override;
  std::vector<UplinkInfo> check_attachments() override;
  std::vector<WorkerSample> worker_samples() const override;

 private:
  struct Uplink {
    std::string name;
    int ifindex = 0;
    unsigned rx_queues = 1;
    unsigned mtu = 0;
    std::optional<Classifier> classifier;
    std::optional<XdpAttachment> attachment;
    std::unique_ptr<UplinkUmem> umem;
    std::optional<Classifier> shadow;  // for trace, loaded on first use
    struct InstalledFilter {
      vmq_filter_key key;
      QueueId queue;
    };
    std::map<FilterId, InstalledFilter> filters;
    std::string degraded;  // why the uplink does not classify, if it does not
  };
  // A command to a worker about a queue, not answered yet.
  struct WorkerChange {
    enum class Step { join, leave_to_move, join_after_move, rejoin_after_failed_move, leave_to_stop } step;
    unsigned cpu;  // the worker it went to
    Worker::Ticket ticket;
    unsigned move_to;              // a move's target CPU
    std::optional<Error> failure;  // why the move failed (while the queue rejoins its worker)
  };
  struct QueueRuntime {
    QueueSpec spec;
    Uplink* uplink;
    std::unique_ptr<VmQueuePath> path;
    std::optional<WorkerChange> change;
  };

  explicit BpfDataplane(LogSink log) : log_(std::move(log)) {}
  Result<void> add_uplink(const std::string& name, const DataplaneConfig& config);
  Result<Uplink*> find_uplink(std::string_view name);
  Result<const Uplink*> find_uplink(std::string_view name) const;
  Result<Worker*> worker_for(unsigned cpu);
  void release_worker_if_idle(unsigned cpu);
  // A command to it is awaited.
  bool worker_awaited(unsigned cpu) const;
  Result<bool> move_settled(QueueRuntime& queue, Result<bool> settled);
  // A move failed: the queue goes back to the worker it left.
  Result<bool> rejoin(QueueRuntime& queue, Error failure);
  void stop_settled(std::map<QueueId, QueueRuntime>::iterator stopping, Result<bool> settled);
  // Asks the worker of a stranded queue to let go of it, again; true once it has.
  bool worker_let_go(QueueRuntime& queue);
  UplinkInfo info_of(const Uplink& uplink) const;
  void clear_slots(const QueueRuntime& queue);
  // Frees a stopped queue once no worker serves it.
  void free_stopped(QueueRuntime& queue);
  void retry_stranded();

  LogSink log_;
  std::vector<std::unique_ptr<Uplink>> uplinks_;
  std::map<unsigned, std::unique_ptr<Worker>> workers_;
  std::map<QueueId, QueueRuntime> queues_;
  // Stopped queues whose worker has not answered the removal yet.
  std::map<QueueId, QueueRuntime> stopping_;
  // Stopped queues whose worker did not answer the removal in time: it may
  // still touch them, so they are freed only once it lets go (asked again
  // with the attachment checks, every second).
  std::vector<QueueRuntime> stranded_;
};

}  // namespace vmq::os
