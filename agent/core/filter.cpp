#include "core/filter.h"

#include <algorithm>

#include <fmt/format.h>

namespace vmq {

std::string_view to_string(VlanMode mode) { return mode == VlanMode::access ? "access" : "trunk"; }

Result<VlanMode> parse_vlan_mode(std::string_view text) {
  if (text == "access") return VlanMode::access;
  if (text == "trunk") return VlanMode::trunk;
  return fail(Errc::invalid_argument, fmt::format("invalid VLAN mode '{}' (expected access or trunk)", text));
}

Result<void> FilterMatch::check_mac(const MacAddress& mac) {
  if (mac.is_group())
    return fail(Errc::invalid_argument,
                fmt::format("MAC {} is a broadcast/multicast address: VMQ filters match unicast addresses only",
                            mac.to_string()));
  if (mac.is_zero()) return fail(Errc::invalid_argument, "MAC 00:00:00:00:00:00 cannot be a filter");
  return {};
}

Result<std::uint16_t> FilterMatch::check_vlan(long vlan) {
  if (vlan < VMQ_VLAN_MIN || vlan > VMQ_VLAN_MAX)
    return fail(Errc::invalid_argument,
                fmt::format("VLAN {} out of range {}..{} (use --untagged for untagged and priority-tagged frames)",
                            vlan, VMQ_VLAN_MIN, VMQ_VLAN_MAX));
  return static_cast<std::uint16_t>(vlan);
}

Result<FilterMatch> FilterMatch::make(const MacAddress& mac, std::optional<long> vlan) {
  if (auto ok = check_mac(mac); !ok) return std::unexpected(ok.error());
  if (!vlan) return FilterMatch{mac, VMQ_VLAN_UNTAGGED_OR_ZERO};
  auto vid = check_vlan(*vlan);
  if (!vid) return std::unexpected(vid.error());
  return FilterMatch{mac, *vid};
}

std::string FilterMatch::describe() const {
  return untagged() ? fmt::format("MAC {} untagged", mac.to_string())
                    : fmt::format("MAC {} VLAN {}", mac.to_string(), vlan);
}

vmq_filter_key FilterMatch::key() const {
  vmq_filter_key key{};
  std::copy(mac.bytes().begin(), mac.bytes().end(), key.mac);
  key.vlan = vlan;
  return key;
}

}  // namespace vmq
