#include "trace_text.h"

#include <fmt/format.h>

#include "format.h"
#include "table.h"

namespace vmq::cli {
namespace {

std::string frame_text(const api::TracedFrame& frame) {
  std::string tags;
  if (frame.vlan == 0)
    tags += ", priority tag (VLAN 0)";
  else if (frame.vlan)
    tags += fmt::format(", VLAN {}", *frame.vlan);
  if (frame.vlan2) tags += fmt::format(", inner VLAN {}", *frame.vlan2);
  if (tags.empty()) tags = ", untagged";
  return fmt::format("dst {}{}, {} bytes", frame.dst.to_string(), tags, frame.length);
}

}  // namespace

std::string trace_text(const api::TraceReply& t) {
  const bool to_queue = t.destination == api::TraceDestination::queue;
  const std::string queue = t.queue ? queue_label(*t.queue) : "";
  Fields fields{
      {"uplink", fmt::format("{}, rx queue {}", t.uplink, t.rx_queue)},
      {"frame", frame_text(t.frame)},
      {"destination", to_queue ? "queue " + queue : "default queue"},
  };
  if (!to_queue) {
    fields.emplace_back("reason", t.reason.value_or(""));
    if (t.queue) fields.emplace_back("queue", queue);
  }
  fields.emplace_back("filter", t.filter ? std::to_string(t.filter->id) : "");
  if (to_queue) {
    fields.emplace_back("VLAN tag", t.tag_removed.value_or(false) ? "removed (access mode)" : "kept");
    fields.emplace_back("output", fmt::format("{} bytes", t.output_length));
  }
  return t.explanation + "\n\n" + render_fields(fields, 2);
}

}  // namespace vmq::cli
