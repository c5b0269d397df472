// What a queue does with a frame's VLAN tag before delivery.
#pragma once

#include <string_view>

#include "base/error.h"

namespace vmq {

enum class VlanMode { trunk, access };

std::string_view to_string(VlanMode mode);
Result<VlanMode> parse_vlan_mode(std::string_view text);

}  // namespace vmq
