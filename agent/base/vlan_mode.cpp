#include "base/vlan_mode.h"

#include <fmt/format.h>

namespace vmq {

std::string_view to_string(VlanMode mode) { return mode == VlanMode::access ? "access" : "trunk"; }

Result<VlanMode> parse_vlan_mode(std::string_view text) {
  if (text == "access") return VlanMode::access;
  if (text == "trunk") return VlanMode::trunk;
  return fail(Errc::invalid_argument, fmt::format("invalid VLAN mode '{}' (expected access or trunk)", text));
}

}  // namespace vmq
