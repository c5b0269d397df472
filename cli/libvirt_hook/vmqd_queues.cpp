#include "libvirt_hook/vmqd_queues.h"

#include <algorithm>
#include <set>
#include <utility>

#include <fmt/format.h>

namespace vmq::libvirt_hook {
namespace {

api::FilterRule rule_of(const FilterMatch& f) {
  if (f.untagged()) return {f.mac, std::nullopt};
  return {f.mac, api::FilterVlan{f.vlan}};
}

using FilterKey = std::pair<MacAddress, std::uint16_t>;  // (MAC, VLAN or 0 for untagged)

std::set<FilterKey> filter_keys(const QueueRequest& request) {
  std::set<FilterKey> keys;
  for (const FilterMatch& f : request.filters) keys.emplace(f.mac, f.vlan);
  return keys;
}

std::set<FilterKey> filter_keys(const std::vector<api::Filter>& filters) {
  std::set<FilterKey> keys;
  for (const api::Filter& f : filters) keys.emplace(f.rule.mac, f.rule.vlan ? f.rule.vlan->id : std::uint16_t{0});
  return keys;
}

}  // namespace

api::QueueAddParams queue_add_params(const QueueRequest& request) {
  api::QueueAddParams params{request.name, request.uplink, request.port, request.vm, {}, {}, request.vlan_mode, {}, {}, {}};
  if (request.frames) params.frames = static_cast<std::uint32_t>(*request.frames);
  for (const FilterMatch& f : request.filters) params.filters.push_back(rule_of(f));
  return params;
}

bool matches(const api::Queue& queue, const QueueRequest& request) {
  return queue.settings.uplink == request.uplink && queue.settings.port == request.port &&
         queue.settings.vlan_mode == request.vlan_mode && !queue.last_error &&
         filter_keys(queue.filters) == filter_keys(request);
}

template <typename Method>
Result<typename Method::Reply> VmqdQueues::call(const typename Method::Params& params) {
  if (unreachable_) return std::unexpected(*unreachable_);
  auto reply = client_.call<Method>(params);
  if (reply) return std::move(*reply);
  Error error = reply.error().error;
  if (reply.error().kind == api::CallFailure::unreachable || error.code == Errc::timeout) {
    error.message = fmt::format("vmqd is unreachable on {}: {}", client_.socket_path(), error.message);
    unreachable_ = error;
  }
  return std::unexpected(error);
}

Result<std::string> VmqdQueues::create(const QueueRequest& request, std::string_view replaced) {
  auto added = call<api::QueueAdd>(queue_add_params(request));
  if (!added) return std::unexpected(added.error());
  std::string vlans;
  for (const FilterMatch& f : request.filters) vlans += (vlans.empty() ? "" : ", ") + f.describe();
  return fmt::format("{}: queue {} (id {}) {} on uplink {}, port {}, {} ({}), CPU {}", request.interface,
                     request.name, added->id, replaced.empty() ? "created" : replaced, request.uplink, request.port,
                     vlans, to_string(request.vlan_mode), added->cpu);
}

Result<std::string> VmqdQueues::ensure(const QueueRequest& request) {
  auto existing = call<api::QueueShow>({request.name});
  if (!existing) {
    if (existing.error().code != Errc::not_found) return std::unexpected(existing.error());
    return create(request, "");
  }
  if (matches(*existing, request))
    return fmt::format("{}: queue {} (id {}) is already there ({})", request.interface, request.name, existing->id,
                       existing->state);
  // Our name, other settings: left from an earlier run of this domain whose
  // stop the hook did not see (the tap's name changes at every start).
  auto removed = call<api::QueueDel>({request.name});
  if (!removed && removed.error().code != Errc::not_found) return std::unexpected(removed.error());
  return create(request, fmt::format("re-created (it had port {}, uplink {})", existing->settings.port,
                                     existing->settings.uplink));
}

// vmqd's migrate.drain frees the queue as queue.del does (filters out of the
// classifier, what the queue holds delivered, sockets freed) and also returns
// the queue's final counters, which the log keeps: the proof that nothing the
// queue accepted was lost inside vmq.
Result<std::string> VmqdQueues::remove(const std::string& name) {
  auto drained = call<api::MigrateDrain>({name});
  if (!drained) {
    if (drained.error().code == Errc::not_found) return fmt::format("queue {}: none to remove", name);
    return std::unexpected(drained.error());
  }
  const api::Counters& c = drained->document.counters_at_drain;
  return fmt::format("queue {} removed: {} frame(s) delivered while it drained, in {} us; in all: classified {}, "
                     "received {}, delivered {}, dropped port_full {} quota {} port_refused {}, dropped by the "
                     "kernel rx_dropped {} rx_ring_full {}",
                     name, drained->drained_frames, drained->drain_us, c.classified.packets, c.received,
                     c.delivered.packets, c.dropped.port_full, c.dropped.quota, c.dropped.port_refused,
                     c.xsk.rx_dropped, c.xsk.rx_ring_full);
}

}  // namespace vmq::libvirt_hook
