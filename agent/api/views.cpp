#include "api/views.h"

#include "base/default_reasons.h"

namespace vmq::api {
namespace {

constexpr std::string_view kTotal = "total";

bool known_reason(std::string_view key) {
  for (std::string_view name : kDefaultReasonNames)
    if (name == key) return true;
  return key == kTotal;
}

std::expected<Traffic, ValueProblem> traffic_at(const json& j, std::string_view key) {
  const auto it = j.find(key);
  if (it == j.end()) return std::unexpected(ValueProblem{false, fmt::format("{} is missing", key)});
  auto traffic = from_json<Traffic>(*it);
  if (!traffic) return std::unexpected(ValueProblem{false, fmt::format("{}.{}", key, traffic.error().message)});
  return *traffic;
}

}  // namespace

json Codec<DefaultQueueTraffic>::encode(const DefaultQueueTraffic& traffic) {
  json j = json::object();
  for (const ReasonTraffic& r : traffic.by_reason) j[r.reason] = to_json(r.traffic);
  j[std::string(kTotal)] = to_json(traffic.total);
  return j;
}

std::expected<DefaultQueueTraffic, ValueProblem> Codec<DefaultQueueTraffic>::decode(const json& j) {
  if (!j.is_object()) return std::unexpected(ValueProblem{true, "an object"});
  DefaultQueueTraffic out;
  for (std::string_view reason : kDefaultReasonNames) {
    auto traffic = traffic_at(j, reason);
    if (!traffic) return std::unexpected(traffic.error());
    out.by_reason.push_back({std::string(reason), *traffic});
  }
  for (const auto& [key, value] : j.items()) {
    if (known_reason(key)) continue;
    auto traffic = traffic_at(j, key);
    if (!traffic) return std::unexpected(traffic.error());
    out.by_reason.push_back({key, *traffic});
  }
  auto total = traffic_at(j, kTotal);
  if (!total) return std::unexpected(total.error());
  out.total = *total;
  return out;
}

}  // namespace vmq::api
