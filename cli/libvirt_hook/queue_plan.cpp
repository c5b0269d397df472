#include "libvirt_hook/queue_plan.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/names.h"
#include "libvirt_hook/queue_name.h"

namespace vmq::libvirt_hook {
namespace {

// Interface types whose guest side is a tap that vmq can transmit into.
bool has_tap(std::string_view type) { return type == "bridge" || type == "network" || type == "ethernet"; }

std::string describe(const DomainInterface& iface) {
  std::string where;
  if (!iface.port.empty()) where = "tap " + iface.port;
  if (!iface.bridge.empty()) where += (where.empty() ? "" : ", ") + std::string("bridge ") + iface.bridge;
  if (where.empty()) where = "type " + iface.type;
  return fmt::format("interface {} ({})", iface.mac.empty() ? "without MAC" : iface.mac, where);
}

// A label vmqd accepts (printable ASCII, at most 64 characters) even for a
// domain name it would not.
std::string vm_label(const std::string& domain) {
  if (check_vm_name(domain)) return domain;
  std::string label;
  for (char c : domain) label += (c >= 0x20 && c < 0x7f) ? c : '?';
  label.resize(std::min<std::size_t>(label.size(), 64));
  return label;
}

const InterfaceChoice* choice_for(const DomainChoice& choice, const MacAddress& mac) {
  for (const InterfaceChoice& c : choice.interfaces) {
    auto parsed = MacAddress::parse(c.mac);
    if (parsed && *parsed == mac) return &c;
  }
  return nullptr;
}

Result<void> add_filters(const DomainInterface& iface, const MacAddress& mac, QueueRequest& request) {
  if (!iface.vlan) {
    auto match = FilterMatch::make(mac, std::nullopt);
    if (!match) return std::unexpected(match.error());
    request.filters.push_back(*match);
    return {};
  }
  const VlanSetting& vlan = *iface.vlan;
  if (vlan.native_mode)
    return fail(Errc::unsupported,
                fmt::format("nativeMode='{}' on a VLAN tag is not supported: a vmq queue either keeps every tag "
                            "(trunk) or removes its one tag (access)",
                            *vlan.native_mode));
  request.vlan_mode = vlan.trunk || vlan.tags.size() > 1 ? VlanMode::trunk : VlanMode::access;
  for (long tag : vlan.tags) {
    auto match = FilterMatch::make(mac, tag);
    if (!match) return std::unexpected(match.error());
    request.filters.push_back(*match);
  }
  return {};
}

}  // namespace

QueuePlan plan_queues(const Domain& domain, const HookConfig& config) {
  QueuePlan plan;
  const DomainChoice& choice = domain.choice;
  for (const InterfaceChoice& c : choice.interfaces) {
    auto mac = MacAddress::parse(c.mac);
    if (!mac) {
      plan.errors.push_back(fmt::format("vmq metadata: interface mac='{}': {}", c.mac, mac.error().message));
      continue;
    }
    const bool known = std::ranges::any_of(domain.interfaces, [&](const DomainInterface& i) {
      auto m = MacAddress::parse(i.mac);
      return m && *m == *mac;
    });
    if (!known) plan.errors.push_back(fmt::format("vmq metadata names interface {}, which the domain does not have", c.mac));
  }
  if (choice.enabled == false) {
    plan.skipped.push_back("the domain's vmq metadata says enabled='no': no queue for any interface");
    return plan;
  }
  if (config.domains == DomainSelection::opt_in && choice.enabled != true) {
    plan.skipped.push_back("domains = \"opt-in\" and the domain's vmq metadata does not say enabled='yes'");
    return plan;
  }

  for (const DomainInterface& iface : domain.interfaces) {
    const std::string what = describe(iface);
    if (iface.type == "vhostuser") {
      plan.skipped.push_back(what + ": vhost-user interfaces are not handled yet");
      continue;
    }
    auto mac = MacAddress::parse(iface.mac);
    if (!mac) {
      plan.errors.push_back(fmt::format("{}: {}", what, mac.error().message));
      continue;
    }
    const InterfaceChoice* own = choice_for(choice, *mac);
    if (own && own->enabled == false) {
      plan.skipped.push_back(what + ": the domain's vmq metadata says enabled='no'");
      continue;
    }
    if (!has_tap(iface.type)) {
      plan.skipped.push_back(fmt::format("{}: type '{}' has no tap for vmq to deliver into", what, iface.type));
      continue;
    }
    std::string uplink;
    if (own && own->uplink) {
      uplink = *own->uplink;
    } else if (auto mapped = config.bridges.find(iface.bridge); mapped != config.bridges.end()) {
      uplink = mapped->second;
    } else {
      plan.skipped.push_back(iface.bridge.empty()
                                 ? what + ": no bridge, and no uplink in the domain's vmq metadata"
                                 : fmt::format("{}: bridge {} has no uplink in the hook's [bridges]", what,
                                               iface.bridge));
      continue;
    }
    QueueRequest request{queue_name_for(domain.name, *mac), vm_label(domain.name), uplink, iface.port,
                         VlanMode::access, {}, config.frames, what};
    if (own && own->frames) request.frames = own->frames;
    if (iface.port.empty()) {
      plan.errors.push_back(what + ": libvirt gave it no tap (target/@dev is missing)");
      continue;
    }
    if (auto ok = check_ifname(request.port, "port"); !ok) {
      plan.errors.push_back(fmt::format("{}: {}", what, ok.error().message));
      continue;
    }
    if (auto ok = check_ifname(request.uplink, "uplink"); !ok) {
      plan.errors.push_back(fmt::format("{}: {}", what, ok.error().message));
      continue;
    }
    if (auto ok = add_filters(iface, *mac, request); !ok) {
      plan.errors.push_back(fmt::format("{}: {}", what, ok.error().message));
      continue;
    }
    plan.queues.push_back(std::move(request));
  }
  return plan;
}

std::vector<std::string> queue_names_of(const Domain& domain) {
  std::vector<std::string> names;
  for (const DomainInterface& iface : domain.interfaces) {
    auto mac = MacAddress::parse(iface.mac);
    if (!mac) continue;
    std::string name = queue_name_for(domain.name, *mac);
    if (std::ranges::find(names, name) == names.end()) names.push_back(std::move(name));
  }
  return names;
}

}  // namespace vmq::libvirt_hook
