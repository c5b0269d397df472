#include "core/worker_load.h"

namespace vmq {

void WorkerLoadMeter::update(const std::vector<WorkerSample>& samples, std::chrono::steady_clock::time_point now) {
  std::map<unsigned, Previous> next;
  loads_.clear();
  for (const WorkerSample& s : samples) {
    WorkerLoad load{s, std::nullopt, std::nullopt};
    auto prev = previous_.find(s.cpu);
    // The same thread, counters that only grew, time that passed.
    if (prev != previous_.end() && prev->second.sample.tid == s.tid && s.cpu_time >= prev->second.sample.cpu_time &&
        s.frames >= prev->second.sample.frames && now > prev->second.at) {
      const double cpu_ns = static_cast<double>((s.cpu_time - prev->second.sample.cpu_time).count());
      const double wall_ns = static_cast<double>(std::chrono::nanoseconds(now - prev->second.at).count());
      const std::uint64_t frames = s.frames - prev->second.sample.frames;
      load.busy_share = std::min(1.0, cpu_ns / wall_ns);
      if (frames > 0) load.ns_per_frame = cpu_ns / static_cast<double>(frames);
    }
    loads_.push_back(load);
    next[s.cpu] = {s, now};
  }
  previous_ = std::move(next);
}

}  // namespace vmq
