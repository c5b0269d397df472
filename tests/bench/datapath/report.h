// The benchmark's report: from the cases' per-round numbers, the medians,
// the ratios computed round by round, the product's targets and whether
// they are met; as JSON (everything, raw rounds included) and as markdown.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace vmq::bench {

// The product's targets.
inline constexpr double kTargetReceiveVsRaw = 0.90;     // vmq >= 90% of one raw AF_XDP socket
inline constexpr double kTargetDeliveryVsBridge = 2.0;  // vmq >= 2x the Linux bridge

// Adds a "summary" to each case of `document` (cases "receive", "delivery",
// "memory", "rebalance", each optional).
void summarize(nlohmann::json& document);
std::string to_markdown(const nlohmann::json& document);

}  // namespace vmq::bench
