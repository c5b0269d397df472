#include "core/cpu_list.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace vmq {

Result<std::set<unsigned>> parse_cpu_list(std::string_view text) {
  std::set<unsigned> cpus;
  auto invalid = [&] { return fail(Errc::invalid_argument, fmt::format("invalid CPU list '{}'", text)); };
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  if (text.empty()) return cpus;
  for (std::size_t pos = 0; pos <= text.size();) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    const std::string_view item = text.substr(pos, comma - pos);
    const std::size_t dash = item.find('-');
    unsigned first = 0, last = 0;
    const auto first_text = item.substr(0, dash);
    auto [p1, e1] = std::from_chars(first_text.data(), first_text.data() + first_text.size(), first);
    if (e1 != std::errc{} || p1 != first_text.data() + first_text.size()) return invalid();
    last = first;
    if (dash != std::string_view::npos) {
      const auto last_text = item.substr(dash + 1);
      auto [p2, e2] = std::from_chars(last_text.data(), last_text.data() + last_text.size(), last);
      if (e2 != std::errc{} || p2 != last_text.data() + last_text.size() || last < first) return invalid();
    }
    if (last > 4095) return invalid();
    for (unsigned c = first; c <= last; ++c) cpus.insert(c);
    pos = comma + 1;
  }
  return cpus;
}

}  // namespace vmq
