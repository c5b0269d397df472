#include "os/worker_pool.h"

#include <algorithm>

#include <fmt/format.h>

namespace vmq::os {
namespace {

Error with_no_worker(Error failure, const Error& why) {
  failure.message += fmt::format("; and no worker serves the queue now: {}", why.message);
  return failure;
}

}  // namespace

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::stop() {
  workers_.clear();
  changes_.clear();
  retiring_.clear();
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

bool WorkerPool::awaited(unsigned cpu) const {
  const bool changing = std::ranges::any_of(changes_, [cpu](const auto& entry) {
    const Change& c = entry.second;
    return c.cpu == cpu || (c.step == Change::Step::leave_to_move && c.to == cpu);
  });
  return changing || std::ranges::any_of(retiring_, [cpu](const Retiring& r) { return r.removal && r.cpu == cpu; });
}

void WorkerPool::release_if_idle(unsigned cpu) {
  auto it = workers_.find(cpu);
  if (it != workers_.end() && it->second->queue_count() == 0 && !awaited(cpu)) workers_.erase(it);
}

Result<void> WorkerPool::add(QueueId id, ServicedQueue& queue, unsigned cpu) {
  if (changes_.contains(id)) return fail(Errc::conflict, fmt::format("queue {}: its last change is under way", id));
  auto worker = worker_for(cpu);
  if (!worker) return std::unexpected(worker.error());
  auto ticket = (*worker)->post_add(&queue);
  if (!ticket) {
    release_if_idle(cpu);
    return std::unexpected(ticket.error());
  }
  changes_.emplace(id, Change{Change::Step::join, &queue, cpu, std::move(*ticket), cpu, cpu, std::nullopt});
  return {};
}

Result<void> WorkerPool::move(QueueId id, ServicedQueue& queue, unsigned from, unsigned to) {
  if (changes_.contains(id)) return fail(Errc::conflict, fmt::format("queue {}: its last change is under way", id));
  if (from == to) return {};
  Worker* source = running_worker(from);
  if (!source) return fail(Errc::invalid_state, fmt::format("CPU {} has no worker to move a queue from", from));
  // The target starts first: a CPU the worker cannot run on fails the move
  // before the queue leaves its worker.
  auto target = worker_for(to);
  if (!target) return std::unexpected(target.error());
  auto ticket = source->post_remove(&queue);
  if (!ticket) {
    release_if_idle(to);
    return std::unexpected(ticket.error());
  }
  changes_.emplace(id, Change{Change::Step::leave_to_move, &queue, from, std::move(*ticket), from, to, std::nullopt});
  return {};
}

Result<bool> WorkerPool::settled(QueueId id) {
  if (auto change = changes_.find(id); change != changes_.end()) return advance(change);
  auto it = std::ranges::find_if(retiring_, [id](const Retiring& r) { return r.id == id && (!r.stranded || r.failure); });
  if (it == retiring_.end()) return true;
  if (!it->stranded && let_go(*it)) {
    const unsigned cpu = it->cpu;
    retiring_.erase(it);
    release_if_idle(cpu);
    return true;
  }
  if (!it->stranded) return false;
  return std::unexpected(*std::exchange(it->failure, std::nullopt));
}

Result<bool> WorkerPool::advance(std::map<QueueId, Change>::iterator change) {
  using Step = Change::Step;
  Change& c = change->second;
  Worker* worker = running_worker(c.cpu);
  Result<bool> settled = worker ? worker->settled(c.ticket)
                                : fail(Errc::invalid_state, fmt::format("CPU {} has no worker any more", c.cpu));
  if (settled && !*settled) return false;
  switch (c.step) {
    case Step::join:  // failed: the worker never saw the queue
      return finish(change, std::move(settled), c.cpu);
    case Step::leave_to_move: {
      if (!settled) return finish(change, std::move(settled), c.to);  // still with its worker
      auto target = worker_for(c.to);
      if (!target) return rejoin(change, target.error());
      auto ticket = (*target)->post_add(c.queue);
      if (!ticket) return rejoin(change, ticket.error());
      c.step = Step::join_after_move;
      c.cpu = c.to;
      c.ticket = std::move(*ticket);
      return false;
    }
    case Step::join_after_move:
      if (!settled) return rejoin(change, settled.error());
      return finish(change, true, c.from);
    case Step::rejoin_after_failed_move: {
      Error failure = *c.failure;
      if (!settled) failure = with_no_worker(std::move(failure), settled.error());
      return finish(change, std::unexpected(std::move(failure)), c.to);
    }
  }
  return true;
}

Result<bool> WorkerPool::rejoin(std::map<QueueId, Change>::iterator change, Error failure) {
  Change& c = change->second;
  auto home = worker_for(c.from);
  auto ticket = home ? (*home)->post_add(c.queue) : Result<Worker::Ticket>(std::unexpected(home.error()));
  if (!ticket) return finish(change, std::unexpected(with_no_worker(std::move(failure), ticket.error())), c.to);
  c.step = Change::Step::rejoin_after_failed_move;
  c.cpu = c.from;
  c.ticket = std::move(*ticket);
  c.failure = std::move(failure);
  return false;
}

Result<bool> WorkerPool::finish(std::map<QueueId, Change>::iterator change, Result<bool> outcome, unsigned idle_cpu) {
  changes_.erase(change);
  release_if_idle(idle_cpu);
  return outcome;
}

void WorkerPool::retire(QueueId id, std::unique_ptr<ServicedQueue> queue, unsigned cpu) {
  std::vector<unsigned> maybe_idle{cpu};
  if (auto change = changes_.find(id); change != changes_.end()) {
    // The queue is, or is about to be, with the worker the pending command
    // went to: a worker takes its commands in order, so the removal posted
    // after that command is the last word.
    cpu = change->second.cpu;
    maybe_idle.push_back(change->second.from);
    maybe_idle.push_back(change->second.to);
    changes_.erase(change);
  }
  retiring_.push_back({id, std::move(queue), cpu, std::nullopt, false, std::nullopt});
  if (let_go(retiring_.back())) retiring_.pop_back();
  for (unsigned c : maybe_idle) release_if_idle(c);
}

bool WorkerPool::let_go(Retiring& r) {
  Worker* worker = running_worker(r.cpu);
  if (!worker) return true;
  if (!r.removal) {
    auto ticket = worker->post_remove(r.queue.get());
    if (!ticket) {
      if (!r.stranded) r.failure = ticket.error();
      r.stranded = true;
      return false;
    }
    r.removal = std::move(*ticket);
  }
  auto settled = worker->settled(*r.removal);
  if (settled && !*settled) return false;
  r.removal.reset();
  if (settled) return true;
  if (!r.stranded) r.failure = settled.error();
  r.stranded = true;
  return false;
}

std::vector<QueueId> WorkerPool::retry_stranded() {
  std::vector<QueueId> freed;
  std::vector<unsigned> maybe_idle;
  std::erase_if(retiring_, [&](Retiring& r) {
    const bool was_stranded = r.stranded;
    if (!let_go(r)) return false;
    if (was_stranded) freed.push_back(r.id);
    maybe_idle.push_back(r.cpu);
    return true;
  });
  for (unsigned cpu : maybe_idle) release_if_idle(cpu);
  return freed;
}

std::size_t WorkerPool::stranded_count() const {
  return static_cast<std::size_t>(std::ranges::count_if(retiring_, [](const Retiring& r) { return r.stranded; }));
}

std::vector<WorkerSample> WorkerPool::samples() const {
  std::vector<WorkerSample> out;
  for (const auto& [cpu, w] : workers_) out.push_back({cpu, w->tid(), w->queue_count(), w->cpu_time(), w->frames()});
  return out;
}

}  // namespace vmq::os
