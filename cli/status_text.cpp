#include "status_text.h"

#include <fmt/format.h>

#include "format.h"
#include "table.h"

namespace vmq::cli {

std::string uplinks_text(const std::vector<api::Uplink>& uplinks) {
  Table table({{"UPLINK"},
               {"RX QUEUES", Align::right},
               {"XDP MODE"},
               {"ATTACH"},
               {"PROGRAM", Align::right},
               {"MAX FRAME", Align::right},
               {"MTU", Align::right},
               {"BUILD"},
               {"STATE"}});
  std::string warnings;
  for (const auto& u : uplinks) {
    table.add_row({u.name, std::to_string(u.rx_queues), u.attach_mode, u.attach_method, std::to_string(u.program_id),
                   std::to_string(u.max_frame_len), std::to_string(u.mtu), u.classifier_build,
                   u.degraded ? "degraded" : "ok"});
    if (u.degraded)
      warnings += fmt::format("warning: uplink {} is degraded: {}\n", u.name, u.degraded_reason.value_or(""));
  }
  return table.render() + warnings;
}

std::string status_text(const api::StatusReply& s) {
  std::string out = fmt::format("vmqd {} (protocol {}), pid {} on host {}, up {}\n", s.version, s.protocol, s.pid,
                                s.host_id, uptime_text(static_cast<std::int64_t>(s.uptime_seconds)));
  out += fmt::format("queues: {} of {}, filters: {} of {}\n\n", s.queues, s.max_queues, s.filters, s.max_filters);
  return out + uplinks_text(s.uplinks) + "\n" + cpus_text(s);
}

std::string cpus_text(const api::StatusReply& s) {
  Table table({{"CPU", Align::right}, {"QUEUES", Align::right}, {"BUSY", Align::right}, {"WORKER", Align::right},
               {"SOFTIRQ", Align::right}});
  auto percent = [](std::optional<double> share) { return share ? fmt::format("{:.0f}%", *share * 100) : "-"; };
  for (const auto& c : s.cpus)
    table.add_row({std::to_string(c.cpu), std::to_string(c.queues), percent(c.busy_share), percent(c.worker_share),
                   percent(c.softirq_share)});
  const std::string rebalancer =
      s.rebalancer.enabled ? fmt::format("rebalancer: on (spread above {:.0f}%, pack below {:.0f}%), {} moves\n",
                                         s.rebalancer.high * 100, s.rebalancer.low * 100, s.rebalancer.moves)
                           : fmt::format("rebalancer: off, {} moves\n", s.rebalancer.moves);
  return table.render() + rebalancer;
}

std::string caps_text(const api::CapsReply& c) {
  const Fields fields{
      {"max queues", std::to_string(c.max_queues)},
      {"max filters", std::to_string(c.max_filters)},
      {"filter fields", list_text(c.filter_fields)},
      {"filter tests", list_text(c.filter_tests)},
      {"VLAN modes", list_text(c.vlan_modes)},
      {"queue frames", fmt::format("{}..{} (default {})", c.frames.min, c.frames.max, c.frames.fallback)},
      {"worker CPUs", cpu_list_text(c.cpus)},
  };
  return render_fields(fields) + "\n" + uplinks_text(c.uplinks);
}

}  // namespace vmq::cli
