// Two paths measured side by side: round r runs them in the order (first,
// second) when r is even and (second, first) when odd, so that neither always
// runs on a warmer or a quieter machine.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace vmq::bench {

// measure(path, round) gives one path's figures in one round (round from 0).
// Returns [{"order": [...], "cases": {path: figures}}, ...], as the report
// reads it; the first failure ends the rounds, naming case, path and round.
using PathMeasure = std::function<Result<nlohmann::json>(const std::string& path, unsigned round)>;
Result<nlohmann::json> alternating_rounds(const std::string& case_name, unsigned rounds, const std::string& first,
                                          const std::string& second, const PathMeasure& measure);

}  // namespace vmq::bench
