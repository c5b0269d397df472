// The Dataplane of a real host, composed of its parts: per uplink an
// UplinkRuntime (classifier, attachment, UMEM), per VM queue a VmQueuePath
// (its sockets and its port), per CPU a worker (the WorkerPool).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/attach_policy.h"
#include "core/dataplane.h"
#include "core/log.h"
#include "core/queue.h"
#include "os/uplink_runtime.h"
#include "os/vm_queue_path.h"
#include "os/worker_pool.h"

namespace vmq::os {

struct DataplaneConfig {
  std::vector<std::string> uplinks;
  std::uint32_t umem_frames_per_rxq = 4096;
  AttachPolicy attach_policy = AttachPolicy::automatic;
  std::uint32_t max_queues = 64;  // VM queue ids 1..max_queues
  std::uint32_t max_filters = 1024;
  std::uint32_t max_sub_queues = 1;  // per queue (VMMQ)
  vhost::VhostUserSettings vhost_user{};  // who may connect to a vhost-user port's socket, its bridge leg
};

class BpfDataplane final : public Dataplane {
 public:
  static Result<std::unique_ptr<BpfDataplane>> create(const DataplaneConfig& config, LogSink log);
  ~BpfDataplane() override;

  std::vector<std::string> uplink_names() const override;
  std::vector<UplinkInfo> uplinks() const override;
  Result<void> check_port(PortKind kind, std::string_view port) const override;
  Result<void> start_queue(const QueueSpec& spec) override;
  Result<void> publish_queue_state(const QueueSpec& spec, QueueState state) override;
  Result<void> install_filter(std::string_view uplink, const FilterMatch& match, QueueId queue,
                              FilterId filter) override;
  Result<void> remove_filter(std::string_view uplink, const FilterMatch& match) override;
  Result<bool> change_settled(QueueId queue) override;
  Result<void> move_queue(QueueId queue, unsigned cpu) override;
  Result<DrainProbe> drain_probe(QueueId queue) override;
  void stop_queue(QueueId queue) override;
  Result<QueueStats> queue_stats(QueueId queue) const override;
  Result<std::uint64_t> filter_hits(std::string_view uplink, FilterId filter) const override;
  Result<DefaultQueueStats> default_queue_stats(std::string_view uplink) const override;
  Result<UmemStats> umem_stats(std::string_view uplink) const override;
  Result<ClassifierTables> classifier_tables(std::string_view uplink) const override;
  Result<TraceVerdict> trace(std::string_view uplink, std::span<const std::uint8_t> frame,
                             std::uint32_t rxq) override;
  std::vector<UplinkInfo> check_attachments() override;
  std::vector<WorkerSample> worker_samples() const override;

 private:
  // One sub-queue of a queue (a queue of one has one): its path, served by
  // the worker of its CPU, known to the worker pool as worker_key().
  struct SubQueue {
    std::unique_ptr<VmQueuePath> path;
    unsigned cpu = 0;
    // The change its worker has not answered yet.
    enum class Pending { none, start, move } pending = Pending::none;
    unsigned move_to = 0;
    std::optional<Result<void>> outcome;  // its worker's answer, while the others' are awaited
  };
  struct QueueRuntime {
    QueueSpec spec;
    UplinkRuntime* uplink;
    std::vector<SubQueue> sub_queues;
  };

  BpfDataplane(vhost::VhostUserSettings vhost_user, LogSink log)
      : vhost_user_(std::move(vhost_user)), log_(std::move(log)) {}
  Result<UplinkRuntime*> find_uplink(std::string_view name) const;
  static QueueId worker_key(QueueId queue, unsigned sub_queue) { return queue * kMaxSubQueues + sub_queue; }
  void disconnect(QueueRuntime& q);
  // Undoes a start that failed part-way: the sub-queues a worker may hold
  // (their add posted and unanswered, or answered with success) are retired,
  // the rest (never added, or refused by their worker) closed.
  void abandon_start(QueueRuntime& q);

  vhost::VhostUserSettings vhost_user_;
  LogSink log_;
  std::vector<std::unique_ptr<UplinkRuntime>> uplinks_;
  WorkerPool workers_;
  std::map<QueueId, QueueRuntime> queues_;
};

}  // namespace vmq::os
