#include "reference_classifier.h"

#include <fmt/format.h>
#include <linux/bpf.h>

#include <algorithm>
#include <optional>

namespace vmq::test {
namespace {

constexpr std::size_t kMacLen = 6;
constexpr std::size_t kEthertypeOffset = 12;  // after the two MAC addresses
constexpr std::size_t kEthHeaderLen = 14;
constexpr std::size_t kTagLen = 4;
constexpr std::uint16_t kVidMask = 0x0fff;

std::uint16_t read_be16(std::span<const std::uint8_t> bytes, std::size_t offset) {
  return static_cast<std::uint16_t>(bytes[offset] << 8 | bytes[offset + 1]);
}

bool is_vlan_tpid(std::uint16_t type) { return type == 0x8100 || type == 0x88a8; }

// The part of the Ethernet header the receive rules look at.
struct Header {
  MacAddress dst;
  bool tagged = false;  // an outer tag is present, VID 0 included
  std::uint16_t vid = VMQ_VLAN_UNTAGGED_OR_ZERO;
  std::size_t l3 = kEthHeaderLen;  // after the (at most two) tags parsed
};

// Empty when the frame ends inside the Ethernet header or inside one of the
// (at most two) VLAN tags the rules parse.
std::optional<Header> parse_header(std::span<const std::uint8_t> frame) {
  if (frame.size() < kEthHeaderLen) return std::nullopt;
  Header header;
  MacAddress::Bytes dst{};
  std::copy_n(frame.begin(), kMacLen, dst.begin());
  header.dst = MacAddress(dst);

  if (!is_vlan_tpid(read_be16(frame, kEthertypeOffset))) return header;
  const std::size_t outer_tag = kEthertypeOffset + 2;
  if (frame.size() < kEthHeaderLen + kTagLen) return std::nullopt;
  header.tagged = true;
  header.vid = read_be16(frame, outer_tag) & kVidMask;
  header.l3 = kEthHeaderLen + kTagLen;

  const std::uint16_t inner_type = read_be16(frame, outer_tag + 2);
  if (!is_vlan_tpid(inner_type)) return header;
  if (frame.size() < kEthHeaderLen + 2 * kTagLen) return std::nullopt;
  header.l3 = kEthHeaderLen + 2 * kTagLen;
  return header;
}

// A 32-bit word as the CPU loads it from the frame (vmq/abi.h: little-endian).
std::uint32_t load_word(std::span<const std::uint8_t> bytes, std::size_t offset) {
  return static_cast<std::uint32_t>(bytes[offset]) | static_cast<std::uint32_t>(bytes[offset + 1]) << 8 |
         static_cast<std::uint32_t>(bytes[offset + 2]) << 16 | static_cast<std::uint32_t>(bytes[offset + 3]) << 24;
}

// vmq/abi.h's flow hash, from its words; a header cut short hashes to 0.
std::uint32_t flow_hash(std::span<const std::uint8_t> frame, const Header& header) {
  constexpr std::size_t kIpv4Len = 20, kIpv6Len = 40;
  const std::size_t l3 = header.l3;
  const std::uint16_t type = read_be16(frame, l3 - 2);
  std::uint32_t hash = VMQ_FLOW_HASH_SEED;
  std::uint8_t protocol = 0;
  std::optional<std::size_t> l4;
  if (type == 0x0800) {
    if (frame.size() < l3 + kIpv4Len) return 0;
    const unsigned ihl = frame[l3] & 0x0f;
    if (ihl < 5) return 0;
    hash = vmq_flow_hash_word(hash, load_word(frame, l3 + 12));
    hash = vmq_flow_hash_word(hash, load_word(frame, l3 + 16));
    protocol = frame[l3 + 9];
    const bool fragment = (read_be16(frame, l3 + 6) & 0x3fff) != 0;  // more fragments, or an offset
    if (!fragment) l4 = l3 + ihl * 4;
  } else if (type == 0x86dd) {
    if (frame.size() < l3 + kIpv6Len) return 0;
    for (std::size_t word = 8; word < kIpv6Len; word += 4) hash = vmq_flow_hash_word(hash, load_word(frame, l3 + word));
    protocol = frame[l3 + 6];
    l4 = l3 + kIpv6Len;
  } else {
    return 0;
  }
  hash = vmq_flow_hash_word(hash, protocol);
  const bool ports = protocol == 6 || protocol == 17 || protocol == 132;  // TCP, UDP, SCTP
  if (l4 && ports && frame.size() >= *l4 + 4) hash = vmq_flow_hash_word(hash, load_word(frame, *l4));
  return hash;
}

// The sub-queue a frame takes: never beyond the queue's rows.
std::uint32_t sub_queue_of(std::span<const std::uint8_t> frame, const Header& header, const ReferenceTables& tables,
                           std::uint32_t queue_id) {
  const std::uint32_t sub_queues = std::min(tables.queues.at(queue_id).sub_queues, tables.sub_queue_slots);
  return sub_queues > 1 ? vmq_sub_queue_of(flow_hash(frame, header), sub_queues) : 0;
}

std::vector<std::uint8_t> without_outer_tag(std::span<const std::uint8_t> frame) {
  std::vector<std::uint8_t> out(frame.begin(), frame.end());
  const auto tag = out.begin() + static_cast<long>(kEthertypeOffset);
  out.erase(tag, tag + static_cast<long>(kTagLen));
  return out;
}

ReferenceVerdict to_default_queue(std::span<const std::uint8_t> frame, vmq_default_reason reason) {
  ReferenceVerdict verdict;
  verdict.action = XDP_PASS;
  verdict.reason = reason;
  verdict.frame.assign(frame.begin(), frame.end());
  return verdict;
}

ReferenceVerdict to_queue(std::vector<std::uint8_t> delivered, const vmq_filter_value& filter) {
  ReferenceVerdict verdict;
  verdict.action = XDP_REDIRECT;
  verdict.queue_id = filter.queue_id;
  verdict.filter_id = filter.filter_id;
  verdict.frame = std::move(delivered);
  return verdict;
}

bool queue_is_running(const ReferenceTables& tables, std::uint32_t queue_id) {
  const auto queue = tables.queues.find(queue_id);
  return queue != tables.queues.end() && queue->second.state == VMQ_QUEUE_RUNNING;
}

bool strips_tag(const ReferenceTables& tables, std::uint32_t queue_id, const Header& header) {
  return header.tagged && tables.queues.at(queue_id).vlan_mode == VMQ_VLAN_MODE_ACCESS;
}

bool has_socket(const ReferenceTables& tables, std::uint32_t queue_id, std::uint32_t sub_queue, std::uint32_t rxq) {
  if (rxq >= tables.rxq_count) return false;
  return tables.socket_slots.contains(
      vmq_socket_slot(queue_id, sub_queue, tables.sub_queue_slots, tables.rxq_count, rxq));
}

}  // namespace

ReferenceVerdict reference_classify(std::span<const std::uint8_t> frame, std::uint32_t rxq,
                                    const ReferenceTables& tables) {
  const auto header = parse_header(frame);
  if (!header) return to_default_queue(frame, VMQ_DEFAULT_MALFORMED);
  if (header->dst.is_group()) return to_default_queue(frame, VMQ_DEFAULT_BROADCAST_MULTICAST);

  const auto filter = tables.filters.find(ReferenceFilterKey{header->dst, header->vid});
  if (filter == tables.filters.end()) return to_default_queue(frame, VMQ_DEFAULT_NO_FILTER);
  const std::uint32_t queue_id = filter->second.queue_id;
  if (!queue_is_running(tables, queue_id)) return to_default_queue(frame, VMQ_DEFAULT_QUEUE_NOT_RUNNING);

  const bool strip = strips_tag(tables, queue_id, *header);
  const std::size_t delivered_len = frame.size() - (strip ? kTagLen : 0);
  if (delivered_len > tables.max_frame_len) return to_default_queue(frame, VMQ_DEFAULT_OVERSIZE);
  if (!has_socket(tables, queue_id, sub_queue_of(frame, *header, tables, queue_id), rxq))
    return to_default_queue(frame, VMQ_DEFAULT_EMPTY_SLOT);

  return to_queue(strip ? without_outer_tag(frame) : std::vector<std::uint8_t>(frame.begin(), frame.end()),
                  filter->second);
}

std::string reason_name(vmq_default_reason reason) {
  switch (reason) {
    case VMQ_DEFAULT_NO_FILTER: return "no filter";
    case VMQ_DEFAULT_QUEUE_NOT_RUNNING: return "queue not running";
    case VMQ_DEFAULT_BROADCAST_MULTICAST: return "broadcast/multicast";
    case VMQ_DEFAULT_MALFORMED: return "malformed";
    case VMQ_DEFAULT_EMPTY_SLOT: return "empty slot";
    case VMQ_DEFAULT_OVERSIZE: return "oversize";
    case VMQ_DEFAULT_REASON_COUNT: break;
  }
  return fmt::format("reason {}", static_cast<int>(reason));
}

std::string describe_decision(const ReferenceVerdict& verdict) {
  if (verdict.action == XDP_PASS) return fmt::format("PASS({})", reason_name(verdict.reason));
  if (verdict.action == XDP_REDIRECT)
    return fmt::format("REDIRECT(queue {}, filter {})", verdict.queue_id, verdict.filter_id);
  return fmt::format("action {}", verdict.action);
}

}  // namespace vmq::test
