#include "core/filter.h"

#include <algorithm>

#include <fmt/format.h>

namespace vmq {

static_assert(kVlanUntaggedOrZero == VMQ_VLAN_UNTAGGED_OR_ZERO && kVlanMin == VMQ_VLAN_MIN &&
                  kVlanMax == VMQ_VLAN_MAX,
              "base/filter_rules.h and the classifier's ABI disagree on VLAN ids");

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
