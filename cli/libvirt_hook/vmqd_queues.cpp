#include "libvirt_hook/vmqd_queues.h"

#include <algorithm>
#include <set>
#include <utility>

#include <fmt/format.h>

namespace vmq::libvirt_hook {
namespace {

using api::json;

using FilterKey = std::pair<std::string, long>;  // (MAC, VLAN or -1 for untagged)

std::set<FilterKey> filter_keys(const QueueRequest& request) {
  std::set<FilterKey> keys;
  for (const FilterMatch& f : request.filters)
    keys.emplace(f.mac.to_string(), f.untagged() ? -1L : static_cast<long>(f.vlan));
  return keys;
}

std::set<FilterKey> filter_keys(const json& filters) {
  std::set<FilterKey> keys;
  if (!filters.is_array()) return keys;
  for (const json& f : filters) {
    const json vlan = f.value("vlan", json());
    keys.emplace(f.value("mac", ""), vlan.is_number_integer() ? vlan.get<long>() : -1L);
  }
  return keys;
}

}  // namespace

json queue_add_params(const QueueRequest& request) {
  json filters = json::array();
  for (const FilterMatch& f : request.filters)
    filters.push_back({{"mac", f.mac.to_string()}, {"vlan", f.untagged() ? json(nullptr) : json(f.vlan)}});
  json params{{"name", request.name},       {"vm", request.vm},
              {"uplink", request.uplink},   {"port", request.port},
              {"vlan_mode", std::string(to_string(request.vlan_mode))}, {"filters", filters}};
  if (request.frames) params["frames"] = *request.frames;
  return params;
}

bool matches(const json& queue, const QueueRequest& request) {
  return queue.value("uplink", "") == request.uplink && queue.value("port", "") == request.port &&
         queue.value("vlan_mode", "") == to_string(request.vlan_mode) &&
         queue.value("last_error", json()).is_null() &&
         filter_keys(queue.value("filters", json::array())) == filter_keys(request);
}

Result<json> VmqdQueues::call(const std::string& method, json params) {
  if (unreachable_) return std::unexpected(*unreachable_);
  auto reply = client_.call(method, std::move(params));
  if (reply) return *reply;
  Error error = reply.error().error;
  if (reply.error().kind == api::CallFailure::unreachable || error.code == Errc::timeout) {
    error.message = fmt::format("vmqd is unreachable on {}: {}", client_.socket_path(), error.message);
    unreachable_ = error;
  }
  return std::unexpected(error);
}

Result<std::string> VmqdQueues::create(const QueueRequest& request, std::string_view replaced) {
  auto added = call("queue.add", queue_add_params(request));
  if (!added) return std::unexpected(added.error());
  std::string vlans;
  for (const FilterMatch& f : request.filters) vlans += (vlans.empty() ? "" : ", ") + f.describe();
  return fmt::format("{}: queue {} (id {}) {} on uplink {}, port {}, {} ({}), CPU {}", request.interface,
                     request.name, added->value("id", 0), replaced.empty() ? "created" : replaced, request.uplink,
                     request.port, vlans, to_string(request.vlan_mode), added->value("cpu", 0));
}

Result<std::string> VmqdQueues::ensure(const QueueRequest& request) {
  auto existing = call("queue.show", {{"queue", request.name}});
  if (!existing) {
    if (existing.error().code != Errc::not_found) return std::unexpected(existing.error());
    return create(request, "");
  }
  if (matches(*existing, request))
    return fmt::format("{}: queue {} (id {}) is already there ({})", request.interface, request.name,
                       existing->value("id", 0), existing->value("state", "?"));
  // Our name, other settings: left from an earlier run of this domain whose
  // stop the hook did not see (the tap's name changes at every start).
  auto removed = call("queue.del", {{"queue", request.name}});
  if (!removed && removed.error().code != Errc::not_found) return std::unexpected(removed.error());
  return create(request, fmt::format("re-created (it had port {}, uplink {})", existing->value("port", "?"),
                                     existing->value("uplink", "?")));
}

// vmqd's migrate.drain frees the queue as queue.del does (filters out of the
// classifier, what the queue holds delivered, sockets freed) and also returns
// the queue's final counters, which the log keeps: the proof that nothing the
// queue accepted was lost inside vmq.
Result<std::string> VmqdQueues::remove(const std::string& name) {
  auto drained = call("migrate.drain", {{"queue", name}});
  if (!drained) {
    if (drained.error().code == Errc::not_found) return fmt::format("queue {}: none to remove", name);
    return std::unexpected(drained.error());
  }
  const json counters = drained->value("document", json::object()).value("counters_at_drain", json::object());
  auto at = [&](std::initializer_list<const char*> path) {
    const json* node = &counters;
    for (const char* key : path) {
      if (!node->is_object() || !node->contains(key)) return std::string("?");
      node = &(*node)[key];
    }
    return node->dump();
  };
  return fmt::format("queue {} removed: {} frame(s) delivered while it drained, in {} us; in all: classified {}, "
                     "received {}, delivered {}, dropped port_full {} quota {} port_refused {}, dropped by the "
                     "kernel rx_dropped {} rx_ring_full {}",
                     name, drained->value("drained_frames", 0), drained->value("drain_us", 0),
                     at({"classified", "packets"}), at({"received"}), at({"delivered", "packets"}),
                     at({"dropped", "port_full"}), at({"dropped", "quota"}), at({"dropped", "port_refused"}),
                     at({"xsk", "rx_dropped"}), at({"xsk", "rx_ring_full"}));
}

}  // namespace vmq::libvirt_hook
