#include "core/rebalancer.h"

#include <algorithm>

#include <fmt/format.h>

namespace vmq {

Result<void> RebalancerSettings::check() const {
  if (!(high > 0 && high <= 1))
    return fail(Errc::invalid_argument, fmt::format("the high threshold {} is not a share between 0 and 1", high));
  if (!(low >= 0 && low < 1))
    return fail(Errc::invalid_argument, fmt::format("the low threshold {} is not a share between 0 and 1", low));
  if (low >= high)
    return fail(Errc::invalid_argument,
                fmt::format("the thresholds overlap: low ({}) must be below high ({})", low, high));
  if (sustain == 0) return fail(Errc::invalid_argument, "sustain must be at least one round");
  return {};
}

Rebalancer::Rebalancer(RebalancerSettings settings, std::set<unsigned> cpus)
    : settings_(settings), cpus_(std::move(cpus)) {}

double Rebalancer::share_of(const QueueLoad& queue, const CpuState& cpu) {
  if (cpu.frames_per_second > 0) return cpu.busy * queue.frames_per_second / cpu.frames_per_second;
  return cpu.queues.empty() ? 0 : cpu.busy / static_cast<double>(cpu.queues.size());
}

bool Rebalancer::cooling(QueueId queue) const {
  auto it = moved_at_.find(queue);
  return it != moved_at_.end() && round_ - it->second < settings_.cooldown;
}

std::vector<QueueMove> Rebalancer::decide(const std::vector<CpuLoad>& cpus, const std::vector<QueueLoad>& queues) {
  ++round_;
  std::map<unsigned, CpuState> state;
  for (unsigned cpu : cpus_) state[cpu];
  for (const CpuLoad& c : cpus)
    if (auto it = state.find(c.cpu); it != state.end()) it->second.busy = c.busy_share;
  for (const QueueLoad& q : queues) {
    auto it = state.find(q.cpu);
    if (it == state.end()) continue;  // a CPU no longer allowed: the operator's to move
    it->second.queues.push_back(&q);
    it->second.frames_per_second += q.frames_per_second;
  }
  count_rounds(state);
  if (!settings_.enabled) return {};
  auto moves = spread(state);
  if (moves.empty() && settings_.pack) moves = pack(state);
  for (const QueueMove& m : moves) moved_at_[m.queue] = round_;
  return moves;
}

void Rebalancer::count_rounds(const std::map<unsigned, CpuState>& state) {
  bool all_low = true;
  for (const auto& [cpu, s] : state) {
    rounds_high_[cpu] = s.busy > settings_.high ? rounds_high_[cpu] + 1 : 0;
    if (!s.queues.empty() && s.busy >= settings_.low) all_low = false;
  }
  rounds_all_low_ = all_low ? rounds_all_low_ + 1 : 0;
}

std::vector<QueueMove> Rebalancer::spread(std::map<unsigned, CpuState>& state) {
  std::vector<unsigned> overloaded;
  for (const auto& [cpu, s] : state)
    if (rounds_high_[cpu] >= settings_.sustain && s.queues.size() > 1) overloaded.push_back(cpu);
  std::ranges::sort(overloaded, [&](unsigned a, unsigned b) { return state[a].busy > state[b].busy; });

  std::vector<QueueMove> moves;
  for (unsigned from : overloaded) {
    CpuState& source = state[from];
    auto target = std::ranges::min_element(state, {}, [&](const auto& entry) {
      return entry.first == from ? 2.0 : entry.second.busy;
    });
    if (target->first == from || target->second.busy >= settings_.high) continue;
    CpuState& destination = target->second;
    // The queue whose move leaves the busier of the two CPUs least busy.
    const QueueLoad* best = nullptr;
    double best_peak = source.busy;
    for (const QueueLoad* q : source.queues) {
      if (!q->movable || cooling(q->queue)) continue;
      const double share = share_of(*q, source);
      const double peak = std::max(source.busy - share, destination.busy + share);
      if (peak < best_peak) {
        best = q;
        best_peak = peak;
      }
    }
    if (!best) continue;
    const double share = share_of(*best, source);
    moves.push_back({best->queue, from, target->first, QueueMove::Kind::spread,
                     fmt::format("spread: CPU {} was {:.0f}% busy (above {:.0f}%) for {} rounds, CPU {} {:.0f}%", from,
                                 source.busy * 100, settings_.high * 100, rounds_high_[from], target->first,
                                 destination.busy * 100)});
    source.busy -= share;
    source.frames_per_second -= best->frames_per_second;
    std::erase(source.queues, best);
    destination.busy += share;
    destination.frames_per_second += best->frames_per_second;
    destination.queues.push_back(best);
    rounds_high_[from] = 0;  // it must be overloaded for `sustain` rounds again
  }
  return moves;
}

std::vector<QueueMove> Rebalancer::pack(std::map<unsigned, CpuState>& state) {
  if (rounds_all_low_ < settings_.sustain) return {};
  auto all_movable = [&](const CpuState& s) {
    return std::ranges::all_of(s.queues, [&](const QueueLoad* q) { return q->movable && !cooling(q->queue); });
  };
  // Empty the quietest CPU whose queues may all move, onto the busiest CPU
  // that stays below the low threshold with them.
  const std::pair<const unsigned, CpuState>* source = nullptr;
  for (const auto& entry : state)
    if (!entry.second.queues.empty() && all_movable(entry.second) &&
        (!source || entry.second.busy < source->second.busy))
      source = &entry;
  if (!source) return {};
  const std::pair<const unsigned, CpuState>* target = nullptr;
  for (const auto& entry : state)
    if (&entry != source && !entry.second.queues.empty() && entry.second.busy + source->second.busy < settings_.low &&
        (!target || entry.second.busy > target->second.busy))
      target = &entry;
  if (!target) return {};
  std::vector<QueueMove> moves;
  for (const QueueLoad* q : source->second.queues)
    moves.push_back({q->queue, source->first, target->first, QueueMove::Kind::pack,
                     fmt::format("pack: every CPU below {:.0f}% for {} rounds; CPU {} ({:.0f}%) onto CPU {} ({:.0f}%)",
                                 settings_.low * 100, rounds_all_low_, source->first, source->second.busy * 100,
                                 target->first, target->second.busy * 100)});
  rounds_all_low_ = 0;
  return moves;
}

}  // namespace vmq
