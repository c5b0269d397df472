#include "os/cpu_times.h"

#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "core/proc_stat.h"

namespace vmq::os {

Result<std::map<unsigned, std::chrono::nanoseconds>> cpu_softirq_times() {
  std::ifstream file("/proc/stat");
  if (!file) return fail_errno(errno, "opening /proc/stat");
  std::ostringstream text;
  text << file.rdbuf();
  auto ticks = parse_softirq_ticks(text.str());
  if (!ticks) return std::unexpected(ticks.error());
  const long hz = sysconf(_SC_CLK_TCK);
  if (hz <= 0) return fail_errno(errno, "sysconf(_SC_CLK_TCK)");
  std::map<unsigned, std::chrono::nanoseconds> out;
  for (const auto& [cpu, n] : *ticks)
    out[cpu] = std::chrono::nanoseconds(static_cast<std::int64_t>(n) * (1'000'000'000 / hz));
  return out;
}

}  // namespace vmq::os
