// What a VMQ filter matches: a destination MAC and either one VLAN id or
// "untagged or VID 0" (vmq-spec F5). Tests inside a filter are ANDed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/error.h"
#include "core/mac_address.h"
#include "vmq/abi.h"

namespace vmq {

using QueueId = std::uint32_t;
using FilterId = std::uint32_t;

enum class VlanMode { trunk, access };

std::string_view to_string(VlanMode mode);
Result<VlanMode> parse_vlan_mode(std::string_view text);

struct FilterMatch {
  MacAddress mac;
  std::uint16_t vlan = VMQ_VLAN_UNTAGGED_OR_ZERO;

  // Validates: a unicast, nonzero MAC; no VLAN (untagged or zero) or 1..4094.
  static Result<FilterMatch> make(const MacAddress& mac, std::optional<long> vlan);
  // make()'s checks one at a time, for callers that say which input was wrong.
  static Result<void> check_mac(const MacAddress& mac);
  static Result<std::uint16_t> check_vlan(long vlan);

  bool untagged() const { return vlan == VMQ_VLAN_UNTAGGED_OR_ZERO; }
  std::string describe() const;  // "MAC 52:54:00:aa:bb:cc VLAN 100" / "... untagged"
  vmq_filter_key key() const;

  bool operator==(const FilterMatch&) const = default;
};

}  // namespace vmq
