// What a VMQ filter matches: a destination MAC and either one VLAN id or
// "untagged or VID 0" (vmq-spec F5). Tests inside a filter are ANDed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/error.h"
#include "base/filter_rules.h"
#include "base/mac_address.h"
#include "base/vlan_mode.h"
#include "vmq/abi.h"

namespace vmq {

struct FilterMatch {
  MacAddress mac;
  std::uint16_t vlan = VMQ_VLAN_UNTAGGED_OR_ZERO;

  // Validates: a unicast, nonzero MAC; no VLAN (untagged or zero) or 1..4094.
  static Result<FilterMatch> make(const MacAddress& mac, std::optional<long> vlan);
  // make()'s checks one at a time (base/filter_rules.h), for callers that say which input was wrong.
  static Result<void> check_mac(const MacAddress& mac) { return check_filter_mac(mac); }
  static Result<std::uint16_t> check_vlan(long vlan) { return check_filter_vlan(vlan); }

  bool untagged() const { return vlan == VMQ_VLAN_UNTAGGED_OR_ZERO; }
  std::string describe() const;  // "MAC 52:54:00:aa:bb:cc VLAN 100" / "... untagged"
  vmq_filter_key key() const;

  bool operator==(const FilterMatch&) const = default;
};

}  // namespace vmq
