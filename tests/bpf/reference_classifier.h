// An independent model of the VMQ receive rules, written from the spec (not
// from bpf/vmq_classify.bpf.c): the oracle of the differential test. Plain
// C++ over plain tables, so it runs without root and without a kernel.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "core/mac_address.h"
#include "vmq/abi.h"

namespace vmq::test {

struct ReferenceFilterKey {
  MacAddress mac;
  std::uint16_t vlan = VMQ_VLAN_UNTAGGED_OR_ZERO;

  auto operator<=>(const ReferenceFilterKey&) const = default;
};

// What the classifier's maps and load-time constants hold.
struct ReferenceTables {
  std::map<ReferenceFilterKey, vmq_filter_value> filters;
  std::map<std::uint32_t, vmq_queue_entry> queues;  // a queue never written is absent
  std::set<std::uint32_t> socket_slots;             // XSKMAP slots that hold a socket
  std::uint32_t rxq_count = 1;
  std::uint32_t max_frame_len = 3840;
  std::uint32_t sub_queue_slots = 1;  // XSKMAP rows per queue (VMMQ)
};

struct ReferenceVerdict {
  std::uint32_t action = 0;                        // XDP_PASS or XDP_REDIRECT
  vmq_default_reason reason = VMQ_DEFAULT_NO_FILTER;  // meaningful for XDP_PASS only
  std::uint32_t queue_id = 0;                      // meaningful for XDP_REDIRECT only
  std::uint32_t filter_id = 0;                     // meaningful for XDP_REDIRECT only
  std::vector<std::uint8_t> frame;                 // the bytes that leave the classifier

  bool operator==(const ReferenceVerdict&) const = default;
};

ReferenceVerdict reference_classify(std::span<const std::uint8_t> frame, std::uint32_t rxq,
                                    const ReferenceTables& tables);

// "PASS(no filter)" or "REDIRECT(queue 3, filter 7)".
std::string describe_decision(const ReferenceVerdict& verdict);
std::string reason_name(vmq_default_reason reason);

}  // namespace vmq::test
