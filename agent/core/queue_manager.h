// The agent's queues and filters: NDIS operations (allocate, set and clear
// filters, complete, free) checked against the state machine, plus the
// operator's conveniences. Owns the records; drives the dataplane through the
// QueueControl seam and never waits for it: what must wait (a drain, a
// worker's answer) is split into steps that the caller awaits between.
// Every refused request changes nothing.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/id_allocator.h"
#include "core/placement.h"
#include "core/queue.h"
#include "core/queue_control.h"

namespace vmq {

struct QueueLimits {
  std::uint32_t max_queues = 64;     // VM queues; the default queue 0 is extra
  std::uint32_t max_filters = 1024;  // across all queues
  std::uint32_t frames_min = 64;
  std::uint32_t frames_max = 4096;
  std::uint32_t frames_default = 512;
  std::chrono::milliseconds drain_timeout{2000};
};

// Notified of what the state machine does (the service logs it).
class QueueEvents {
 public:
  virtual ~QueueEvents() = default;
  virtual void state_changed(const Queue& queue, QueueState from, QueueState to) = 0;
  // NDIS_STATUS_RECEIVE_QUEUE_STATE(DmaStopped): once per freed queue.
  virtual void dma_stopped(const Queue& queue) = 0;
  // The classifier's copy of a queue's state could not be written while the
  // queue was being freed. No frame reaches it (it has no filters left) and
  // the slot is written again when its id is reused, so freeing goes on; the
  // failure is reported here rather than lost.
  virtual void publish_failed(const Queue& queue, const Error& error) = 0;
};

class QueueManager {
 public:
  QueueManager(QueueLimits limits, Placement placement, QueueControl& control, QueueEvents* events = nullptr);

  // NDIS operations. `id` is given only when restoring saved state.
  Result<QueueId> allocate(const QueueParams& params, std::optional<QueueId> id = std::nullopt);
  Result<FilterId> set_filter(QueueId queue, const FilterMatch& match, std::optional<FilterId> id = std::nullopt);
  Result<void> clear_filter(FilterId filter);

  // Allocate and set every filter, or leave nothing behind; the caller then
  // completes the allocation (begin_start...).
  Result<QueueId> prepare(const QueueParams& params, const std::vector<FilterMatch>& filters);
  // Clears the filters of a queue that never started and frees it (nothing
  // to drain): undoes prepare().
  void discard(QueueId queue);
  // Re-creates a saved queue with its ids and filters; the caller then
  // starts it, and pauses it if the operator had.
  Result<QueueId> restore(const Queue& saved, const std::vector<Filter>& filters);

  // ---- operations that wait, in steps ----
  // What an operation waits for (a drain, a port the kernel still releases,
  // a worker thread's answer) the caller awaits between its steps, on its
  // event loop. Meanwhile the queue is busy: any other change to it is
  // refused with invalid_state, saying what it is doing.

  // Whether the dataplane's last start, move or stop of the queue has been
  // answered by its worker (see QueueControl::change_settled).
  Result<bool> change_settled(QueueId queue) { return control_.change_settled(queue); }

  // OID_RECEIVE_FILTER_QUEUE_ALLOCATION_COMPLETE: begin_start, then
  // try_start until it succeeds or fails for good (port_still_held() says
  // to try again), then once change_settled, finish_start with the outcome:
  // running (or paused, without filters) and published, or left as it was
  // with last_error set.
  Result<void> begin_start(QueueId queue);
  Result<void> try_start(QueueId queue);
  Result<void> finish_start(QueueId queue, Result<void> started);

  // Another CPU: begin_move says whether the queue is being moved (it is
  // started); if so, once change_settled, finish_move with the outcome.
  Result<bool> begin_move(QueueId queue, unsigned cpu);
  Result<void> finish_move(QueueId queue, unsigned cpu, Result<void> moved);
  // Remembers a queue's last move (shown by `queue show`).
  void record_move(QueueId queue, QueueMoveRecord move);
  // Pinned: the operator chose the queue's CPU and the rebalancer leaves it there.
  Result<void> set_cpu_pinned(QueueId queue, bool pinned);

  struct Freeing {
    QueueId queue = 0;
    bool must_drain = false;  // it had sockets: what its rings hold goes to its port first
  };
  // OID_RECEIVE_FILTER_FREE_QUEUE: DMA stopped (the classifier no longer
  // matches the queue). Then drain_probe() until the rings stay empty, then
  // release_resources(), then (once change_settled, if it had to be
  // drained) finish_free().
  Result<Freeing> begin_free(QueueId queue);
  // Clears every filter (new frames take the default path), then begin_free.
  Result<Freeing> begin_remove(QueueId queue);
  // What the rings of a started queue hold now (the dataplane's probe).
  Result<DrainProbe> drain_probe(QueueId queue) { return control_.drain_probe(queue); }
  // Indicates DMA stopped and stops the queue in the dataplane, whatever the
  // drain's outcome.
  Result<void> release_resources(const Freeing& freeing);
  // Forgets the queue; returns the drain's outcome.
  Result<DrainResult> finish_free(const Freeing& freeing, Result<DrainResult> drained);

  // Stops delivery to every queue without forgetting any: the classifier
  // sends their frames to the default queue; the caller then drains the
  // queues returned. For shutdown: records (and the saved state) stay as
  // they are. `errors` gets what could not be done.
  std::vector<QueueId> begin_quiesce(std::vector<Error>& errors);

  // New queues go to the CPUs of `placement` (configuration reload).
  void set_placement(Placement placement) { placement_ = std::move(placement); }

  // The operator's pause keeps the filters but stops matching them.
  Result<void> pause(QueueId queue);
  // Ends an operator pause. (A queue whose allocation did not complete,
  // awaits_completion(), is resumed by starting it.)
  Result<void> resume(QueueId queue);
  bool awaits_completion(QueueId queue) const;
  Result<void> rename(QueueId queue, const std::string& name);
  Result<void> set_vm(QueueId queue, const std::string& vm);

  // A queue by name or by decimal id.
  Result<const Queue*> find(std::string_view name_or_id) const;
  const Queue* queue(QueueId id) const;
  const Filter* filter(FilterId id) const;
  std::vector<const Queue*> queues() const;  // by id
  std::vector<const Filter*> filters_of(QueueId queue) const;
  std::size_t filter_count() const { return filters_.size(); }
  // Grows with every change to queues and filters, whether or not the call
  // that made it succeeded: what must be saved is what changed.
  std::uint64_t generation() const { return generation_; }
  // DMA-stopped indications so far (one per freed queue).
  std::uint64_t dma_stopped_count() const { return dma_stopped_count_; }

  // Takes every worker's totals (the agent samples them every second);
  // worker_loads() are over the last interval.
  void sample_worker_load(const std::vector<WorkerSample>& samples, std::chrono::steady_clock::time_point now) {
    load_meter_.update(samples, now);
  }
  const std::vector<WorkerLoad>& worker_loads() const { return load_meter_.loads(); }
  std::map<unsigned, unsigned> queues_per_cpu() const;

  const QueueLimits& limits() const { return limits_; }
  const Placement& placement() const { return placement_; }

 private:
  using FilterKey = std::tuple<std::string, MacAddress, std::uint16_t>;  // uplink, MAC, VLAN

  // What a busy queue is doing (see "operations that wait").
  enum class Activity { starting, moving, freeing };

  Result<Queue*> mutable_queue(QueueId id);
  // The queue, if no operation is under way on it.
  Result<Queue*> idle_queue(QueueId id);
  Result<void> check_idle(const Queue& queue) const;
  // The queue, if it is `doing` that (the steps of an operation).
  Result<Queue*> busy_queue(QueueId id, Activity doing);
  Result<QueueState> check_transition(const Queue& queue, QueueEvent event) const;
  // Takes the queue through the NDIS table's cell for `event` (or refuses).
  Result<void> apply(Queue& q, QueueEvent event);
  void enter(Queue& queue, QueueState next);
  Result<void> publish(const Queue& queue);
  void publish_while_freeing(const Queue& queue);
  Result<std::uint32_t> frames_for(std::optional<std::uint32_t> hint) const;
  Result<std::vector<unsigned>> cpus_for(const QueueParams& params) const;
  Result<void> check_unique(const QueueParams& params) const;
  static QueueSpec spec_of(const Queue& queue);
  bool started(const Queue& queue) const;

  QueueLimits limits_;
  Placement placement_;
  QueueControl& control_;
  QueueEvents* events_;
  IdAllocator queue_ids_;
  IdAllocator filter_ids_;
  std::map<QueueId, Queue> queues_;
  std::map<FilterId, Filter> filters_;
  std::map<FilterKey, FilterId> filter_by_key_;
  std::map<QueueId, Activity> busy_;
  std::uint64_t dma_stopped_count_ = 0;
  WorkerLoadMeter load_meter_;
  std::uint64_t generation_ = 0;
};

}  // namespace vmq
