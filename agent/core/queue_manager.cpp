#include "core/queue_manager.h"

#include <algorithm>
#include <bit>
#include <charconv>

#include <fmt/format.h>

#include "core/names.h"

namespace vmq {

QueueManager::QueueManager(QueueLimits limits, Placement placement, QueueControl& control, QueueEvents* events)
    : limits_(limits),
      placement_(std::move(placement)),
      control_(control),
      events_(events),
      queue_ids_(1, limits.max_queues),
      filter_ids_(1, limits.max_filters) {}

// ---- lookups ---------------------------------------------------------------

const Queue* QueueManager::queue(QueueId id) const {
  auto it = queues_.find(id);
  return it == queues_.end() ? nullptr : &it->second;
}

const Filter* QueueManager::filter(FilterId id) const {
  auto it = filters_.find(id);
  return it == filters_.end() ? nullptr : &it->second;
}

Result<Queue*> QueueManager::mutable_queue(QueueId id) {
  auto it = queues_.find(id);
  if (it == queues_.end()) return fail(Errc::not_found, fmt::format("no queue with id {}", id));
  return &it->second;
}

Result<Queue*> QueueManager::idle_queue(QueueId id) {
  auto q = mutable_queue(id);
  if (!q) return q;
  if (auto ok = check_idle(**q); !ok) return std::unexpected(ok.error());
  return q;
}

Result<void> QueueManager::check_idle(const Queue& q) const {
  auto it = busy_.find(q.id);
  if (it == busy_.end()) return {};
  std::string_view doing;
  switch (it->second) {
    case Activity::starting: doing = "starting it"; break;
    case Activity::moving: doing = "moving it to another CPU"; break;
    case Activity::freeing: doing = "freeing it (its frames are being delivered to its port)"; break;
  }
  return fail(Errc::invalid_state,
              fmt::format("queue {}: busy: another request is {}; try again once it has been answered", q.name, doing));
}

Result<Queue*> QueueManager::busy_queue(QueueId id, Activity doing) {
  auto q = mutable_queue(id);
  if (!q) return q;
  if (auto it = busy_.find(id); it == busy_.end() || it->second != doing)
    return fail(Errc::invalid_state, fmt::format("queue {}: that operation is not under way", (*q)->name));
  return q;
}

Result<const Queue*> QueueManager::find(std::string_view name_or_id) const {
  QueueId id = 0;
  auto [end, ec] = std::from_chars(name_or_id.data(), name_or_id.data() + name_or_id.size(), id);
  if (ec == std::errc{} && end == name_or_id.data() + name_or_id.size()) {
    if (id == VMQ_DEFAULT_QUEUE_ID)
      return fail(Errc::invalid_argument, "queue 0 is the default queue (the host's switch): it has no settings");
    if (const Queue* q = queue(id)) return q;
    return fail(Errc::not_found, fmt::format("no queue with id {}", id));
  }
  for (const auto& [qid, q] : queues_)
    if (q.name == name_or_id) return &q;
  return fail(Errc::not_found, fmt::format("no queue named '{}'", name_or_id));
}

std::vector<const Queue*> QueueManager::queues() const {
  std::vector<const Queue*> out;
  for (const auto& [id, q] : queues_) out.push_back(&q);
  return out;
}

std::vector<const Filter*> QueueManager::filters_of(QueueId queue_id) const {
  std::vector<const Filter*> out;
  if (const Queue* q = queue(queue_id))
    for (FilterId f : q->filters) out.push_back(&filters_.at(f));
  return out;
}

std::map<unsigned, unsigned> QueueManager::queues_per_cpu() const {
  std::map<unsigned, unsigned> load;
  for (const auto& [id, q] : queues_)
    for (unsigned cpu : q.cpus()) ++load[cpu];
  return load;
}

// ---- state machine plumbing ----------------------------------------------

Result<QueueState> QueueManager::check_transition(const Queue& q, QueueEvent event) const {
  if (auto next = next_state(q.state, event)) return *next;
  return fail(Errc::invalid_state, fmt::format("queue {}: cannot {} a queue in state {}", q.name, to_string(event),
                                               to_string(q.state)));
}

Result<void> QueueManager::apply(Queue& q, QueueEvent event) {
  auto next = check_transition(q, event);
  if (!next) return std::unexpected(next.error());
  enter(q, *next);
  return {};
}

void QueueManager::enter(Queue& q, QueueState next) {
  const QueueState from = q.state;
  q.state = next;
  ++generation_;
  if (events_ && from != next) events_->state_changed(q, from, next);
}

bool QueueManager::started(const Queue& q) const {
  return q.state == QueueState::running || q.state == QueueState::paused || q.state == QueueState::dma_stopped ||
         q.state == QueueState::freeing;
}

QueueSpec QueueManager::spec_of(const Queue& q) {
  return QueueSpec{q.id, q.uplink, q.port, q.cpu, q.frames, q.vlan_mode, q.port_kind, q.sub_queue_cpus};
}

Result<void> QueueManager::publish(const Queue& q) {
  return control_.publish_queue_state(spec_of(q), q.visible_state());
}

Result<std::uint32_t> QueueManager::frames_for(std::optional<std::uint32_t> hint) const {
  if (!hint) return limits_.frames_default;
  if (*hint == 0 || *hint > limits_.frames_max)
    return fail(Errc::invalid_argument,
                fmt::format("frames {} out of range 1..{}", *hint, limits_.frames_max));
  // Ring sizes are powers of two: the actual count is within 1x..2x the hint.
  return std::bit_ceil(std::max(*hint, limits_.frames_min));
}

Result<std::vector<unsigned>> QueueManager::cpus_for(const QueueParams& params) const {
  const bool listed = !params.sub_queue_cpus.empty();
  const unsigned count = listed ? static_cast<unsigned>(params.sub_queue_cpus.size()) : params.sub_queues;
  if (count < 1 || count > kMaxSubQueues)
    return fail(Errc::invalid_argument, fmt::format("{} sub-queues: a queue has 1 to {}", count, kMaxSubQueues));
  if (params.cpu && (listed || count > 1))
    return fail(Errc::invalid_argument, "a CPU and sub-queues exclude each other: sub-queues are each on a CPU of their own");
  if (listed && params.sub_queues != 1 && params.sub_queues != count)
    return fail(Errc::invalid_argument, fmt::format("{} CPUs given for {} sub-queues", count, params.sub_queues));
  if (listed) {
    if (auto ok = placement_.check_distinct(params.sub_queue_cpus); !ok) return std::unexpected(ok.error());
    return params.sub_queue_cpus;
  }
  if (params.cpu) {
    auto checked = placement_.check(*params.cpu);
    if (!checked) return std::unexpected(checked.error());
    return std::vector<unsigned>{*checked};
  }
  return placement_.least_loaded(count, queues_per_cpu());
}

Result<void> QueueManager::check_unique(const QueueParams& params) const {
  for (const auto& [id, q] : queues_) {
    if (q.name == params.name)
      return fail(Errc::conflict, fmt::format("queue {}: the name is already used by queue {}", params.name, id));
    if (q.port == params.port)
      return fail(Errc::conflict, fmt::format("queue {}: port {} already delivers for queue {} (id {})", params.name,
                                              params.port, q.name, id));
  }
  return {};
}

// ---- NDIS operations -----------------------------------------------------

Result<QueueId> QueueManager::allocate(const QueueParams& params, std::optional<QueueId> id) {
  if (auto ok = check_queue_name(params.name); !ok) return std::unexpected(ok.error());
  if (auto ok = check_vm_name(params.vm); !ok) return std::unexpected(ok.error());
  if (auto ok = check_port_name(params.port_kind, params.port); !ok) return std::unexpected(ok.error());
  if (auto ok = check_ifname(params.uplink, "uplink"); !ok) return std::unexpected(ok.error());
  const auto uplinks = control_.uplink_names();
  if (std::ranges::find(uplinks, params.uplink) == uplinks.end()) {
    std::string known;
    for (const auto& u : uplinks) known += (known.empty() ? "" : ", ") + u;
    return fail(Errc::not_found, fmt::format("queue {}: uplink {} is not managed by vmqd (configured uplinks: {})",
                                             params.name, params.uplink, known.empty() ? "none" : known));
  }
  if (params.port == params.uplink)
    return fail(Errc::invalid_argument, fmt::format("queue {}: the port cannot be the uplink", params.name));
  if (auto ok = check_unique(params); !ok) return std::unexpected(ok.error());
  if (auto ok = control_.check_port(params.port_kind, params.port); !ok)
    return fail(ok.error().code, fmt::format("queue {}: {}", params.name, ok.error().message));
  auto frames = frames_for(params.frames);
  if (!frames) return std::unexpected(frames.error());
  auto cpus = cpus_for(params);
  if (!cpus) return fail(cpus.error().code, fmt::format("queue {}: {}", params.name, cpus.error().message));
  const unsigned cpu = cpus->front();
  const bool vmmq = cpus->size() > 1;
  if (vmmq && params.port_kind == PortKind::vhost_user)
    return fail(Errc::invalid_argument, fmt::format("queue {}: a vhost-user port takes one sub-queue (its first queue "
                                               "pair); sub-queues need a multi-queue tap",
                                               params.name));

  const std::optional<QueueId> new_id = queue_ids_.acquire(id);
  if (!new_id && id)
    return fail(Errc::conflict, fmt::format("queue {}: id {} is taken or out of range", params.name, *id));
  if (!new_id)
    return fail(Errc::limit_reached, fmt::format("queue {}: all {} queues are allocated (max_queues)", params.name,
                                                 limits_.max_queues));

  Queue& q = queues_[*new_id];
  q = Queue{*new_id, params.name, params.vm, params.uplink, params.port, cpu, params.cpu.has_value() || vmmq,
            *frames, params.vlan_mode, QueueState::undefined, false, {}, {}, std::nullopt,
            vmmq ? std::move(*cpus) : std::vector<unsigned>{}, params.port_kind};
  auto ok = apply(q, QueueEvent::allocate);
  if (ok) ok = publish(q);
  if (!ok) {
    queues_.erase(*new_id);
    queue_ids_.release(*new_id);
    return std::unexpected(ok.error());
  }
  return *new_id;
}

Result<FilterId> QueueManager::set_filter(QueueId queue_id, const FilterMatch& match, std::optional<FilterId> id) {
  auto q = idle_queue(queue_id);
  if (!q) return std::unexpected(q.error());
  Queue& queue = **q;
  auto next = check_transition(queue, QueueEvent::set_filter);
  if (!next) return std::unexpected(next.error());

  const FilterKey key{queue.uplink, match.mac, match.vlan};
  if (auto it = filter_by_key_.find(key); it != filter_by_key_.end()) {
    const Filter& other = filters_.at(it->second);
    return fail(Errc::conflict, fmt::format("queue {}: {} is already used by queue {} (filter {})", queue.name,
                                            match.describe(), queues_.at(other.queue).name, other.id));
  }
  const std::optional<FilterId> new_id = filter_ids_.acquire(id);
  if (!new_id && id)
    return fail(Errc::conflict, fmt::format("queue {}: filter id {} is taken or out of range", queue.name, *id));
  if (!new_id)
    return fail(Errc::limit_reached, fmt::format("queue {}: all {} filters are in use (max_filters)", queue.name,
                                                 limits_.max_filters));
  if (auto ok = control_.install_filter(queue.uplink, match, queue.id, *new_id); !ok) {
    filter_ids_.release(*new_id);
    return std::unexpected(ok.error());
  }
  ++generation_;
  filters_[*new_id] = Filter{*new_id, queue.id, match};
  filter_by_key_[key] = *new_id;
  queue.filters.push_back(*new_id);
  const QueueState before = queue.state;
  enter(queue, *next);
  if (before != *next) {
    if (auto ok = publish(queue); !ok) return std::unexpected(ok.error());
  }
  return *new_id;
}

Result<void> QueueManager::clear_filter(FilterId filter_id) {
  auto it = filters_.find(filter_id);
  if (it == filters_.end()) return fail(Errc::not_found, fmt::format("no filter with id {}", filter_id));
  const Filter f = it->second;
  Queue& queue = queues_.at(f.queue);
  if (auto ok = check_idle(queue); !ok) return ok;
  const auto event = queue.filters.size() == 1 ? QueueEvent::clear_last_filter : QueueEvent::clear_filter;
  // Clearing the filters of an operator-paused queue is allowed: it is
  // paused for the classifier, running for the state machine.
  auto next = check_transition(queue, event);
  if (!next) return std::unexpected(next.error());

  if (auto ok = control_.remove_filter(queue.uplink, f.match); !ok) return std::unexpected(ok.error());
  ++generation_;
  filter_by_key_.erase(FilterKey{queue.uplink, f.match.mac, f.match.vlan});
  filters_.erase(it);
  filter_ids_.release(filter_id);
  std::erase(queue.filters, filter_id);
  const QueueState before = queue.state;
  enter(queue, *next);
  if (queue.filters.empty()) queue.paused_by_operator = false;
  if (before != *next) return publish(queue);
  return {};
}

bool QueueManager::awaits_completion(QueueId queue_id) const {
  const Queue* q = queue(queue_id);
  return q && (q->state == QueueState::allocated || q->state == QueueState::set);
}

Result<void> QueueManager::begin_start(QueueId queue_id) {
  auto q = idle_queue(queue_id);
  if (!q) return std::unexpected(q.error());
  if (auto next = check_transition(**q, QueueEvent::allocation_complete); !next) return std::unexpected(next.error());
  busy_[queue_id] = Activity::starting;
  return {};
}

Result<void> QueueManager::try_start(QueueId queue_id) {
  auto q = busy_queue(queue_id, Activity::starting);
  if (!q) return std::unexpected(q.error());
  return control_.start_queue(spec_of(**q));
}

Result<void> QueueManager::finish_start(QueueId queue_id, Result<void> started) {
  auto q = busy_queue(queue_id, Activity::starting);
  if (!q) return std::unexpected(q.error());
  Queue& queue = **q;
  busy_.erase(queue_id);
  if (!started) {
    queue.last_error = started.error().message;
    Error error = started.error();
    error.message = fmt::format("queue {}: {}", queue.name, error.message);
    return std::unexpected(error);
  }
  auto next = check_transition(queue, QueueEvent::allocation_complete);
  if (!next) return std::unexpected(next.error());
  queue.last_error.clear();
  enter(queue, *next);
  return publish(queue);
}

void QueueManager::publish_while_freeing(const Queue& queue) {
  if (auto ok = publish(queue); !ok && events_) events_->publish_failed(queue, ok.error());
}

Result<QueueManager::Freeing> QueueManager::begin_free(QueueId queue_id) {
  auto q = idle_queue(queue_id);
  if (!q) return std::unexpected(q.error());
  Queue& queue = **q;
  if (!queue.filters.empty())
    return fail(Errc::invalid_state, fmt::format("queue {}: cannot free a queue with {} filter(s): clear them first",
                                                 queue.name, queue.filters.size()));
  auto next = check_transition(queue, QueueEvent::free);
  if (!next) return std::unexpected(next.error());

  const Freeing freeing{queue.id, started(queue)};
  enter(queue, *next);  // DMA stopped: the classifier stops matching the queue
  busy_[queue.id] = Activity::freeing;
  // The queue has no filters left, so no frame can reach it whatever the
  // classifier's copy of its state says: a failed write is reported, not fatal.
  publish_while_freeing(queue);
  return freeing;
}

// dma-stopped -> freeing -> undefined: the table's cells for a queue in
// dma-stopped and freeing, which nothing else can change meanwhile.
Result<void> QueueManager::release_resources(const Freeing& freeing) {
  auto q = busy_queue(freeing.queue, Activity::freeing);
  if (!q) return std::unexpected(q.error());
  Queue& queue = **q;
  ++dma_stopped_count_;
  if (events_) events_->dma_stopped(queue);
  if (auto ok = apply(queue, QueueEvent::dma_stopped); !ok) return ok;
  if (freeing.must_drain) control_.stop_queue(queue.id);
  return {};
}

Result<DrainResult> QueueManager::finish_free(const Freeing& freeing, Result<DrainResult> drained) {
  auto q = busy_queue(freeing.queue, Activity::freeing);
  if (!q) return std::unexpected(q.error());
  Queue& queue = **q;
  busy_.erase(queue.id);
  if (auto freed = apply(queue, QueueEvent::resources_freed); !freed) return std::unexpected(freed.error());
  publish_while_freeing(queue);
  queue_ids_.release(queue.id);
  queues_.erase(queue.id);
  return drained;
}

void QueueManager::discard(QueueId queue_id) {
  auto freeing = begin_remove(queue_id);
  if (!freeing) return;
  (void)release_resources(*freeing);
  (void)finish_free(*freeing, DrainResult{});
}

// ---- operator conveniences -----------------------------------------------

std::vector<QueueId> QueueManager::begin_quiesce(std::vector<Error>& errors) {
  std::vector<QueueId> started_queues;
  for (auto& [id, q] : queues_) {
    if (!started(q)) continue;
    if (auto ok = control_.publish_queue_state(spec_of(q), QueueState::paused); !ok) errors.push_back(ok.error());
    started_queues.push_back(id);
  }
  return started_queues;
}

Result<QueueId> QueueManager::prepare(const QueueParams& params, const std::vector<FilterMatch>& matches) {
  auto id = allocate(params);
  if (!id) return id;
  for (const FilterMatch& m : matches) {
    if (auto f = set_filter(*id, m); !f) {
      discard(*id);
      return std::unexpected(f.error());
    }
  }
  return id;
}

Result<QueueManager::Freeing> QueueManager::begin_remove(QueueId queue_id) {
  auto q = idle_queue(queue_id);
  if (!q) return std::unexpected(q.error());
  if (!parameters_accessible((*q)->state))
    return fail(Errc::invalid_state,
                fmt::format("queue {}: already being freed (state {})", (*q)->name, to_string((*q)->state)));
  const std::vector<FilterId> filters = (*q)->filters;
  for (auto it = filters.rbegin(); it != filters.rend(); ++it) {
    if (auto ok = clear_filter(*it); !ok) return std::unexpected(ok.error());
  }
  return begin_free(queue_id);
}

Result<QueueId> QueueManager::restore(const Queue& saved, const std::vector<Filter>& filters) {
  const bool vmmq = saved.sub_queues() > 1;
  const QueueParams params{saved.name,   saved.vm,        saved.uplink,
                           saved.port,   vmmq ? std::nullopt : std::optional<unsigned>{saved.cpu},
                           saved.frames, saved.vlan_mode, saved.sub_queue_cpus,
                           1,            saved.port_kind};
  auto id = allocate(params, saved.id);
  if (!id) return id;
  queues_.at(*id).cpu_pinned = saved.cpu_pinned;
  queues_.at(*id).last_move = saved.last_move;
  for (const Filter& f : filters) {
    if (auto ok = set_filter(*id, f.match, f.id); !ok) {
      discard(*id);
      return std::unexpected(ok.error());
    }
  }
  return id;
}

Result<void> QueueManager::pause(QueueId queue_id) {
  auto q = idle_queue(queue_id);
  if (!q) return std::unexpected(q.error());
  Queue& queue = **q;
  if (queue.state != QueueState::running)
    return fail(Errc::invalid_state,
                fmt::format("queue {}: only a running queue can be paused (state {})", queue.name,
                            to_string(queue.visible_state())));
  if (queue.paused_by_operator) return {};
  ++generation_;
  queue.paused_by_operator = true;
  if (auto ok = publish(queue); !ok) {
    queue.paused_by_operator = false;
    return ok;
  }
  if (events_) events_->state_changed(queue, QueueState::running, QueueState::paused);
  return {};
}

Result<void> QueueManager::resume(QueueId queue_id) {
  auto q = idle_queue(queue_id);
  if (!q) return std::unexpected(q.error());
  Queue& queue = **q;
  if (queue.state == QueueState::paused)
    return fail(Errc::invalid_state, fmt::format("queue {}: has no filters: add one to make it run", queue.name));
  if (queue.state != QueueState::running)
    return fail(Errc::invalid_state,
                fmt::format("queue {}: cannot resume a queue in state {}", queue.name, to_string(queue.state)));
  if (!queue.paused_by_operator) return {};
  ++generation_;
  queue.paused_by_operator = false;
  if (auto ok = publish(queue); !ok) {
    queue.paused_by_operator = true;
    return ok;
  }
  if (events_) events_->state_changed(queue, QueueState::paused, QueueState::running);
  return {};
}

Result<bool> QueueManager::begin_move(QueueId queue_id, unsigned cpu) {
  auto q = idle_queue(queue_id);
  if (!q) return std::unexpected(q.error());
  Queue& queue = **q;
  if (!parameters_accessible(queue.state))
    return fail(Errc::invalid_state, fmt::format("queue {}: cannot change parameters in state {}", queue.name,
                                                 to_string(queue.state)));
  if (queue.sub_queues() > 1)
    return fail(Errc::invalid_argument, fmt::format("queue {}: it has {} sub-queues, each on its own CPU; they "
                                                    "do not move (remove the queue and add it again)",
                                                    queue.name, queue.sub_queues()));
  auto checked = placement_.check(cpu);
  if (!checked) return fail(checked.error().code, fmt::format("queue {}: {}", queue.name, checked.error().message));
  if (cpu == queue.cpu) return false;
  if (!started(queue)) {
    ++generation_;
    queue.cpu = cpu;
    return false;
  }
  if (auto ok = control_.move_queue(queue.id, cpu); !ok) return std::unexpected(ok.error());
  busy_[queue_id] = Activity::moving;
  return true;
}

Result<void> QueueManager::finish_move(QueueId queue_id, unsigned cpu, Result<void> moved) {
  auto q = busy_queue(queue_id, Activity::moving);
  if (!q) return std::unexpected(q.error());
  busy_.erase(queue_id);
  if (!moved) return moved;
  ++generation_;
  (*q)->cpu = cpu;
  return {};
}

void QueueManager::record_move(QueueId queue_id, QueueMoveRecord move) {
  auto it = queues_.find(queue_id);
  if (it == queues_.end()) return;
  ++generation_;
  it->second.last_move = std::move(move);
}

Result<void> QueueManager::set_cpu_pinned(QueueId queue_id, bool pinned) {
  auto q = idle_queue(queue_id);
  if (!q) return std::unexpected(q.error());
  if (!pinned && (*q)->sub_queues() > 1)
    return fail(Errc::invalid_argument, fmt::format("queue {}: its {} sub-queues stay on their CPUs: it cannot be auto",
                                                    (*q)->name, (*q)->sub_queues()));
  ++generation_;
  (*q)->cpu_pinned = pinned;
  return {};
}

Result<void> QueueManager::rename(QueueId queue_id, const std::string& name) {
  auto q = idle_queue(queue_id);
  if (!q) return std::unexpected(q.error());
  if (auto ok = check_queue_name(name); !ok) return ok;
  if (!parameters_accessible((*q)->state))
    return fail(Errc::invalid_state, fmt::format("queue {}: cannot change parameters in state {}", (*q)->name,
                                                 to_string((*q)->state)));
  for (const auto& [id, other] : queues_)
    if (id != queue_id && other.name == name)
      return fail(Errc::conflict, fmt::format("queue {}: the name {} is already used by queue {}", (*q)->name, name, id));
  ++generation_;
  (*q)->name = name;
  return {};
}

Result<void> QueueManager::set_vm(QueueId queue_id, const std::string& vm) {
  auto q = idle_queue(queue_id);
  if (!q) return std::unexpected(q.error());
  if (auto ok = check_vm_name(vm); !ok) return ok;
  if (!parameters_accessible((*q)->state))
    return fail(Errc::invalid_state, fmt::format("queue {}: cannot change parameters in state {}", (*q)->name,
                                                 to_string((*q)->state)));
  ++generation_;
  (*q)->vm = vm;
  return {};
}

}  // namespace vmq
