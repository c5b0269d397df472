#include "filter_setup.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "core/frame_builder.h"
#include "core/mac_address.h"

namespace vmq::bench {
namespace {

constexpr std::uint32_t kVlanCount = VMQ_VLAN_MAX - VMQ_VLAN_MIN + 1;

MacAddress filter_mac(std::uint32_t index) {
  return MacAddress(MacAddress::Bytes{0x52, 0x54, 0x00, static_cast<std::uint8_t>(index >> 16),
                                      static_cast<std::uint8_t>(index >> 8), static_cast<std::uint8_t>(index)});
}

vmq_filter_key key_of(const MacAddress& mac, std::uint16_t vlan) {
  vmq_filter_key key{};
  std::copy(mac.bytes().begin(), mac.bytes().end(), key.mac);
  key.vlan = vlan;
  return key;
}

std::set<std::uint32_t> queues_of(const std::vector<FilterSpec>& filters) {
  std::set<std::uint32_t> queues;
  for (const auto& f : filters) queues.insert(f.queue_id);
  return queues;
}

Result<void> put_running_queues(os::Classifier& classifier, const std::set<std::uint32_t>& queues) {
  const vmq_queue_entry running{VMQ_QUEUE_RUNNING, VMQ_VLAN_MODE_TRUNK, 1, 0};
  for (std::uint32_t q : queues) {
    if (auto ok = classifier.put_queue(q, running); !ok) return ok;
  }
  return {};
}

// A socket in each queue's slot for rx queue 0.
Result<void> put_sockets(os::Classifier& classifier, const std::set<std::uint32_t>& queues,
                         std::vector<test::XskPlaceholder>& sockets) {
  for (std::uint32_t q : queues) {
    auto& socket = sockets.emplace_back();
    if (socket.fd() < 0) return fail_errno(errno, "creating an AF_XDP socket");
    if (auto ok = classifier.put_socket(classifier.socket_slot(q, 0), socket.fd()); !ok) return ok;
  }
  return {};
}

Result<void> put_filters(os::Classifier& classifier, const std::vector<FilterSpec>& filters) {
  for (const auto& f : filters) {
    if (auto ok = classifier.put_filter(f.key, vmq_filter_value{f.queue_id, f.filter_id}); !ok) return ok;
  }
  return {};
}

}  // namespace

std::vector<FilterSpec> make_filters(std::uint32_t count, std::uint32_t max_queues) {
  std::vector<FilterSpec> filters;
  filters.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto vlan = static_cast<std::uint16_t>(VMQ_VLAN_MIN + i % kVlanCount);
    filters.push_back({key_of(filter_mac(i), vlan), 1 + i % (max_queues - 1), i + 1});
  }
  return filters;
}

std::vector<FilterSpec> pick_hit_filters(const std::vector<FilterSpec>& filters, std::uint32_t flows) {
  std::vector<FilterSpec> picked;
  for (std::uint32_t flow = 0; flow < flows; ++flow) picked.push_back(filters[flow * filters.size() / flows]);
  return picked;
}

Frame tagged_frame_to(const vmq_filter_key& key) {
  MacAddress::Bytes mac{};
  std::copy(std::begin(key.mac), std::end(key.mac), mac.begin());
  return FrameBuilder().dst(MacAddress(mac)).tag(key.vlan).min_size(kFrameBytes).build();
}

Frame unknown_unicast_frame() {
  return tagged_frame_to(key_of(MacAddress(MacAddress::Bytes{0x52, 0x54, 0x01, 0xff, 0xff, 0xfe}), VMQ_VLAN_MIN));
}

Result<InstalledFilters> install_filters(os::Classifier& classifier, std::uint32_t count, std::uint32_t flows,
                                         std::vector<test::XskPlaceholder>& sockets) {
  const auto filters = make_filters(count, kMaxQueues);
  const auto hits = pick_hit_filters(filters, flows);
  const auto hit_queues = queues_of(hits);
  if (auto ok = put_running_queues(classifier, queues_of(filters)); !ok) return std::unexpected(ok.error());
  if (auto ok = put_sockets(classifier, hit_queues, sockets); !ok) return std::unexpected(ok.error());
  if (auto ok = put_filters(classifier, filters); !ok) return std::unexpected(ok.error());

  InstalledFilters installed;
  for (const auto& h : hits) installed.hit_frames.push_back(tagged_frame_to(h.key));
  installed.hit_queues.assign(hit_queues.begin(), hit_queues.end());
  installed.miss_frame = unknown_unicast_frame();
  return installed;
}

}  // namespace vmq::bench
