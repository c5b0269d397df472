#include "os/worker_pool.h"

#include <fmt/format.h>

namespace vmq::os {

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::stop() {
  workers_.clear();
  stranded_.clear();
}

Result<Worker*> WorkerPool::worker_for(unsigned cpu) {
  if (Worker* running = running_worker(cpu)) return running;
  auto worker = Worker::start(cpu, command_timeout_);
  if (!worker) return std::unexpected(worker.error());
  return workers_.emplace(cpu, std::move(*worker)).first->second.get();
}

Worker* WorkerPool::running_worker(unsigned cpu) const {
  auto it = workers_.find(cpu);
  return it == workers_.end() ? nullptr : it->second.get();
}

void WorkerPool::release_if_idle(unsigned cpu) {
  auto it = workers_.find(cpu);
  if (it != workers_.end() && it->second->queue_count() == 0) workers_.erase(it);
}

Result<void> WorkerPool::add(ServicedQueue& queue, unsigned cpu) {
  auto worker = worker_for(cpu);
  if (!worker) return std::unexpected(worker.error());
  if (auto ok = (*worker)->add(&queue); !ok) {
    release_if_idle(cpu);
    return ok;
  }
  return {};
}

Result<void> WorkerPool::move(ServicedQueue& queue, unsigned from, unsigned to) {
  Worker* source = running_worker(from);
  if (!source) return fail(Errc::invalid_state, fmt::format("CPU {} has no worker to move a queue from", from));
  auto target = worker_for(to);
  if (!target) return std::unexpected(target.error());
  if (auto ok = source->remove(&queue); !ok) {
    release_if_idle(to);
    return ok;
  }
  if (auto ok = (*target)->add(&queue); !ok) {
    (void)source->add(&queue);
    release_if_idle(to);
    return ok;
  }
  release_if_idle(from);
  return {};
}

Result<void> WorkerPool::retire(std::unique_ptr<ServicedQueue> queue, unsigned cpu, QueueId id) {
  if (Worker* worker = running_worker(cpu)) {
    if (auto ok = worker->remove(queue.get()); !ok) {
      stranded_.push_back({std::move(queue), cpu, id});
      return ok;
    }
  }
  queue.reset();
  release_if_idle(cpu);
  return {};
}

std::vector<QueueId> WorkerPool::retry_stranded() {
  std::vector<QueueId> freed;
  std::erase_if(stranded_, [&](Stranded& s) {
    Worker* worker = running_worker(s.cpu);
    if (worker && !worker->remove(s.queue.get())) return false;
    s.queue.reset();
    release_if_idle(s.cpu);
    freed.push_back(s.id);
    return true;
  });
  return freed;
}

std::vector<WorkerSample> WorkerPool::samples() const {
  std::vector<WorkerSample> out;
  for (const auto& [cpu, w] : workers_) out.push_back({cpu, w->tid(), w->queue_count(), w->cpu_time(), w->frames()});
  return out;
}

}  // namespace vmq::os
