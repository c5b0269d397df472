// Dynamic VMQ's policy (vmq-spec F10): which queues to move between CPUs so
// that no CPU stays overloaded (spread) and idle queues do not hold CPUs
// they do not need (pack). Pure decisions from load figures: the agent
// measures, asks, and makes the moves through the lossless move path.
//
// Hysteresis comes from three places: a CPU must stay beyond a threshold for
// `sustain` consecutive rounds before anything moves from it, the gap
// between the low and high thresholds (a pack never fills a CPU past low),
// and a queue that moved stays put for `cooldown` rounds.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/filter.h"

namespace vmq {

struct RebalancerSettings {
  bool enabled = false;
  double high = 0.75;      // busy share above which a CPU's queues spread
  double low = 0.25;       // busy share below which queues pack back
  unsigned sustain = 3;    // consecutive rounds beyond a threshold before acting
  unsigned cooldown = 10;  // rounds a moved queue stays where it went
  bool pack = true;

  Result<void> check() const;
  bool operator==(const RebalancerSettings&) const = default;
};

// One CPU's load over the last round: the share of it the worker and the
// kernel work it causes took (0..1).
struct CpuLoad {
  unsigned cpu = 0;
  double busy_share = 0;
};

struct QueueLoad {
  QueueId queue = 0;
  unsigned cpu = 0;
  bool movable = true;           // false: the operator gave it this CPU
  double frames_per_second = 0;  // its share of its CPU's load is estimated from this
};

struct QueueMove {
  enum class Kind { spread, pack };
  QueueId queue = 0;
  unsigned from = 0;
  unsigned to = 0;
  Kind kind = Kind::spread;
  std::string reason;
};

class Rebalancer {
 public:
  // `cpus`: the CPUs queues may run on.
  Rebalancer(RebalancerSettings settings, std::set<unsigned> cpus);

  const RebalancerSettings& settings() const { return settings_; }
  // One round: at most one move from each overloaded CPU, or, when every
  // CPU is quiet, the emptying of one CPU.
  std::vector<QueueMove> decide(const std::vector<CpuLoad>& cpus, const std::vector<QueueLoad>& queues);

 private:
  struct CpuState {
    double busy = 0;
    double frames_per_second = 0;
    std::vector<const QueueLoad*> queues;
  };

  void count_rounds(const std::map<unsigned, CpuState>& state);
  std::vector<QueueMove> spread(std::map<unsigned, CpuState>& state);
  std::vector<QueueMove> pack(std::map<unsigned, CpuState>& state);
  bool cooling(QueueId queue) const;
  static double share_of(const QueueLoad& queue, const CpuState& cpu);

  RebalancerSettings settings_;
  std::set<unsigned> cpus_;
  std::map<unsigned, unsigned> rounds_high_;  // by CPU
  unsigned rounds_all_low_ = 0;
  std::map<QueueId, unsigned> moved_at_;  // round of a queue's last move
  unsigned round_ = 0;
};

}  // namespace vmq
