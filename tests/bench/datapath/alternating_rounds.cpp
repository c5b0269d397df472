#include "alternating_rounds.h"

#include <fmt/format.h>

namespace vmq::bench {

Result<nlohmann::json> alternating_rounds(const std::string& case_name, unsigned rounds, const std::string& first,
                                          const std::string& second, const PathMeasure& measure) {
  nlohmann::json out = nlohmann::json::array();
  for (unsigned r = 0; r < rounds; ++r) {
    nlohmann::json round = {{"order", nlohmann::json::array()}, {"cases", nlohmann::json::object()}};
    for (const std::string& path : r % 2 == 0 ? std::vector{first, second} : std::vector{second, first}) {
      auto figures = measure(path, r);
      if (!figures)
        return fail(figures.error().code,
                    fmt::format("{} case {}, round {}: {}", case_name, path, r + 1, figures.error().message));
      round["order"].push_back(path);
      round["cases"][path] = std::move(*figures);
    }
    out.push_back(std::move(round));
  }
  return out;
}

}  // namespace vmq::bench
