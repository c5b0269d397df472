#include "base/filter_rules.h"

#include <fmt/format.h>

namespace vmq {

Result<void> check_filter_mac(const MacAddress& mac) {
  if (mac.is_group())
    return fail(Errc::invalid_argument,
                fmt::format("MAC {} is a broadcast/multicast address: VMQ filters match unicast addresses only",
                            mac.to_string()));
  if (mac.is_zero()) return fail(Errc::invalid_argument, "MAC 00:00:00:00:00:00 cannot be a filter");
  return {};
}

Result<std::uint16_t> check_filter_vlan(long vlan) {
  if (vlan < kVlanMin || vlan > kVlanMax)
    return fail(Errc::invalid_argument,
                fmt::format("VLAN {} out of range {}..{} (use --untagged for untagged and priority-tagged frames)",
                            vlan, kVlanMin, kVlanMax));
  return static_cast<std::uint16_t>(vlan);
}

}  // namespace vmq
