#include "service/api_records.h"

namespace vmq::service {

api::FilterRule rule_of(const FilterMatch& match) {
  if (match.untagged()) return {match.mac, std::nullopt};
  return {match.mac, api::FilterVlan{match.vlan}};
}

FilterMatch match_of(const api::FilterRule& rule) {
  return FilterMatch{rule.mac, rule.vlan ? rule.vlan->id : kVlanUntaggedOrZero};
}

api::QueueSettings settings_of(const Queue& q) {
  return {q.name, q.vm, q.uplink, q.port, q.frames, q.vlan_mode, q.paused_by_operator, q.port_kind};
}

}  // namespace vmq::service
