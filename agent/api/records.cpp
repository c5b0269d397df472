#include "api/records.h"

namespace vmq::api {

std::expected<FilterVlan, ValueProblem> Codec<FilterVlan>::decode(const json& j) {
  if (!j.is_number_integer()) return std::unexpected(ValueProblem{true, "an integer (null: untagged)"});
  // Beyond long, named as written rather than as what a narrowing made of it.
  if (j.is_number_unsigned() && j.get<std::uint64_t>() > kVlanMax)
    return std::unexpected(ValueProblem{
        false, fmt::format("VLAN {} out of range {}..{} (use --untagged for untagged and priority-tagged frames)",
                           j.get<std::uint64_t>(), kVlanMin, kVlanMax)});
  auto vlan = check_filter_vlan(j.get<long>());
  if (!vlan) return std::unexpected(ValueProblem{false, vlan.error().message});
  return FilterVlan{*vlan};
}

std::uint64_t dropped_total(const Counters& c) {
  return c.dropped.port_full + c.dropped.quota + c.dropped.port_refused + c.xsk.rx_dropped + c.xsk.rx_ring_full;
}

}  // namespace vmq::api
