#include "core/proc_stat.h"

#include <charconv>
#include <vector>

#include <fmt/format.h>

namespace vmq {
namespace {

constexpr std::size_t kSoftirqField = 7;  // cpuN user nice system idle iowait irq softirq ...

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  while (!line.empty()) {
    const auto start = line.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    line.remove_prefix(start);
    const auto end = line.find(' ');
    out.push_back(line.substr(0, end));
    if (end == std::string_view::npos) break;
    line.remove_prefix(end);
  }
  return out;
}

template <typename T>
bool parse_number(std::string_view text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

Result<std::map<unsigned, std::uint64_t>> parse_softirq_ticks(std::string_view proc_stat) {
  std::map<unsigned, std::uint64_t> out;
  while (!proc_stat.empty()) {
    const auto newline = proc_stat.find('\n');
    const std::string_view line = proc_stat.substr(0, newline);
    proc_stat.remove_prefix(newline == std::string_view::npos ? proc_stat.size() : newline + 1);
    if (!line.starts_with("cpu") || line.size() < 4 || line[3] < '0' || line[3] > '9') continue;
    const auto fields = words(line);
    unsigned cpu = 0;
    std::uint64_t ticks = 0;
    if (!parse_number(fields[0].substr(3), cpu) || fields.size() <= kSoftirqField ||
        !parse_number(fields[kSoftirqField], ticks))
      return fail(Errc::invalid_argument, fmt::format("/proc/stat: cannot read the softirq time of '{}'", line));
    out[cpu] = ticks;
  }
  return out;
}

}  // namespace vmq
