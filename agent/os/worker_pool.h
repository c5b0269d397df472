// The dataplane's workers, one per CPU that has queues: a CPU's worker starts
// with its first queue and stops with its last. A queue stopped while its
// worker did not answer may still be touched by that worker: it is kept
// (stranded) and freed once the worker lets go of it.
#pragma once

#include <chrono>
#include <map>
#include <memory>
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

  // The worker of `cpu` serves `queue` from now on (started if the CPU had
  // none). On failure no worker serves it.
  Result<void> add(ServicedQueue& queue, unsigned cpu);
  // The queue's frames wait in its rings while it changes workers; on
  // failure it stays with the worker of `from`.
  Result<void> move(ServicedQueue& queue, unsigned from, unsigned to);
  // Takes a stopped queue from the worker of `cpu` and frees it. If that
  // worker does not answer, the queue is kept until retry_stranded() frees
  // it, and the error says why.
  Result<void> retire(std::unique_ptr<ServicedQueue> queue, unsigned cpu, QueueId id);
  // Frees the stranded queues whose worker now lets go of them; returns their ids.
  std::vector<QueueId> retry_stranded();
  // Stops every worker, then frees the stranded queues: nothing serves any
  // queue afterwards.
  void stop();

  std::vector<WorkerSample> samples() const;
  std::size_t stranded_count() const { return stranded_.size(); }

 private:
  struct Stranded {
    std::unique_ptr<ServicedQueue> queue;
    unsigned cpu;
    QueueId id;
  };

  Result<Worker*> worker_for(unsigned cpu);
  Worker* running_worker(unsigned cpu) const;
  void release_if_idle(unsigned cpu);

  std::chrono::milliseconds command_timeout_;
  std::map<unsigned, std::unique_ptr<Worker>> workers_;
  std::vector<Stranded> stranded_;
};

}  // namespace vmq::os
