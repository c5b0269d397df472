// The dataplane's workers, one per CPU that has queues: a CPU's worker starts
// with its first queue and stops with its last. Changes are posted to the
// workers and never waited for: the caller polls settled(queue). A queue
// stopped while its worker did not answer may still be touched by that
// worker: it is kept (stranded) and freed once the worker lets go of it.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "core/error.h"
#include "core/filter.h"
#include "core/worker_load.h"
#include "os/serviced_queue.h"
#include "os/worker.h"

namespace vmq::os {

class WorkerPool {
 public:
  explicit WorkerPool(std::chrono::milliseconds command_timeout = Worker::kCommandTimeout)
      : command_timeout_(command_timeout) {}
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // The worker of `cpu` is to serve `queue` (started if the CPU had none).
  // Once settled with an error, no worker serves it.
  Result<void> add(QueueId id, ServicedQueue& queue, unsigned cpu);
  // The queue's frames wait in its rings while it changes workers. Once
  // settled with an error, it is back with the worker of `from`.
  Result<void> move(QueueId id, ServicedQueue& queue, unsigned from, unsigned to);
  // Takes a stopped queue from its worker and frees it once the worker has
  // let go. A retire never fails: if the worker does not answer, settled()
  // says why and the queue is kept until retry_stranded() frees it.
  void retire(QueueId id, std::unique_ptr<ServicedQueue> queue, unsigned cpu);
  // Never waits: false while the queue's change is under way, true once it
  // is done (or there was none), an error once it failed.
  Result<bool> settled(QueueId id);
  // Frees the stranded queues whose worker now lets go of them; returns their ids.
  std::vector<QueueId> retry_stranded();
  // Stops every worker, then frees the retired queues: nothing serves any
  // queue afterwards.
  void stop();

  std::vector<WorkerSample> samples() const;
  std::size_t stranded_count() const;

 private:
  // A change posted to a worker, not answered yet.
  struct Change {
    enum class Step { join, leave_to_move, join_after_move, rejoin_after_failed_move } step;
    ServicedQueue* queue;
    unsigned cpu;  // the worker the command went to
    Worker::Ticket ticket;
    unsigned from = 0, to = 0;     // a move's CPUs
    std::optional<Error> failure;  // why the move failed (while the queue rejoins `from`)
  };
  struct Retiring {
    QueueId id;
    std::unique_ptr<ServicedQueue> queue;
    unsigned cpu;
    std::optional<Worker::Ticket> removal;
    bool stranded = false;         // its worker did not answer in time
    std::optional<Error> failure;  // why, until settled() has said it
  };

  Result<Worker*> worker_for(unsigned cpu);
  Worker* running_worker(unsigned cpu) const;
  // Stops the CPU's worker if it serves nothing and no command to it is awaited.
  void release_if_idle(unsigned cpu);
  bool awaited(unsigned cpu) const;
  Result<bool> advance(std::map<QueueId, Change>::iterator change);
  Result<bool> rejoin(std::map<QueueId, Change>::iterator change, Error failure);
  Result<bool> finish(std::map<QueueId, Change>::iterator change, Result<bool> outcome, unsigned idle_cpu);
  // Polls a retiring queue's removal (posting it first if needed): true once
  // its worker has let go; a failure strands it.
  bool let_go(Retiring& retiring);

  std::chrono::milliseconds command_timeout_;
  std::map<unsigned, std::unique_ptr<Worker>> workers_;
  std::map<QueueId, Change> changes_;
  std::vector<Retiring> retiring_;
};

}  // namespace vmq::os
