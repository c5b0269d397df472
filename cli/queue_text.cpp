#include "queue_text.h"

#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "format.h"
#include "table.h"

namespace vmq::cli {
namespace {

std::string number(std::uint64_t value) { return std::to_string(value); }

std::string first_filter_text(const api::Queue& q) {
  if (q.filters.empty()) return "no filter";
  const api::Filter& f = q.filters.front();
  return fmt::format("filter {} ({})", f.id, match_text(f.rule));
}

std::string worker_text(const api::Queue& q) {
  if (!q.worker) return "";
  if (q.worker->tid == 0) return fmt::format("none (CPU {})", q.worker->cpu);
  return fmt::format("tid {} on CPU {}", q.worker->tid, q.worker->cpu);
}

std::string last_move_text(const api::Queue& q) {
  if (!q.last_move) return "never";
  const api::QueueMove& m = *q.last_move;
  return fmt::format("CPU {} -> {} by the {} at {} ({})", m.from, m.to, m.by, utc_time_text(m.at_ms), m.reason);
}

}  // namespace

std::string filters_table(const std::vector<api::Filter>& filters, std::size_t indent) {
  Table table({{"ID", Align::right}, {"MAC"}, {"VLAN", Align::right}, {"HITS", Align::right}}, indent);
  for (const auto& f : filters)
    table.add_row({number(f.id), f.rule.mac.to_string(), vlan_text(f.rule.vlan), f.hits ? number(*f.hits) : ""});
  return table.render();
}

std::string counters_table(const api::Counters& c, std::size_t indent) {
  Table table({{"COUNTER"}, {"VALUE", Align::right}, {"BYTES", Align::right}}, indent);
  auto traffic = [&](const char* label, const api::Traffic& t) {
    table.add_row({label, number(t.packets), number(t.bytes)});
  };
  auto single = [&](const std::string& label, std::uint64_t value) { table.add_row({label, number(value)}); };
  traffic("classified", c.classified);
  single("received", c.received);
  traffic("delivered", c.delivered);
  single("checksum completed", c.checksum_completed);
  single("dropped port_full", c.dropped.port_full);
  single("dropped quota", c.dropped.quota);
  single("dropped port_refused", c.dropped.port_refused);
  single("port errors", c.port_errors);
  single("in flight", c.in_flight);
  single("xsk rx_dropped", c.xsk.rx_dropped);
  single("xsk rx_ring_full", c.xsk.rx_ring_full);
  single("xsk rx_fill_ring_empty", c.xsk.rx_fill_ring_empty);
  single("xsk rx_invalid_descs", c.xsk.rx_invalid_descs);
  single("xsk tx_invalid_descs", c.xsk.tx_invalid_descs);
  if (c.leg) {
    single("leg to guest", c.leg->to_guest);
    single("leg to guest refused", c.leg->to_guest_refused);
    single("leg from guest", c.leg->from_guest);
  }
  return table.render();
}

// "0" or "0,1" (VMMQ: each sub-queue's CPU).
std::string cpus_text(const api::Queue& q) {
  if (q.sub_queues.size() <= 1) return number(q.cpu);
  std::vector<std::uint32_t> cpus;
  for (const api::SubQueue& s : q.sub_queues) cpus.push_back(s.cpu);
  return fmt::format("{}", fmt::join(cpus, ","));
}

std::string sub_queues_table(const api::Queue& q) {
  Table table({{"SUB-QUEUE", Align::right}, {"CPU", Align::right}, {"RX", Align::right}, {"DELIVERED", Align::right},
               {"DROPPED", Align::right}},
              2);
  for (const api::SubQueue& s : q.sub_queues) {
    const auto& c = s.counters;
    table.add_row({number(s.index), number(s.cpu), c ? number(c->received) : "", c ? number(c->delivered.packets) : "",
                   c ? number(c->dropped) : ""});
  }
  return table.render();
}

std::string queue_detail_text(const api::Queue& q) {
  const Fields fields{
      {"queue", queue_label(q)},
      {"vm", q.settings.vm},
      {"uplink", q.settings.uplink},
      {"port", q.settings.port},
      {"port kind", std::string(to_string(q.settings.port_kind))},
      {"state", q.state},
      {"ndis state", q.ndis_state},
      {"paused by operator", yes_no(q.settings.paused_by_operator)},
      {"last error", q.last_error.value_or("")},
      {"cpu", q.sub_queues.size() > 1 ? fmt::format("{} ({} sub-queues, pinned)", cpus_text(q), q.sub_queues.size())
                                      : fmt::format("{} ({})", q.cpu, q.cpu_mode)},
      {"last move", last_move_text(q)},
      {"frames", number(q.settings.frames)},
      {"vlan mode", std::string(to_string(q.settings.vlan_mode))},
      {"worker", worker_text(q)},
  };
  const std::string counters = q.counters ? counters_table(*q.counters, 2)
                                          : "  unavailable: " + q.counters_error.value_or("vmqd gave no reason") + "\n";
  const std::string sub_queues = q.sub_queues.size() > 1 ? "\nsub-queues:\n" + sub_queues_table(q) : "";
  return render_fields(fields) + "\nfilters:\n" + filters_table(q.filters, 2) + "\ncounters:\n" + counters + sub_queues;
}

std::string queue_list_text(const api::QueueListReply& list) {
  Table table({{"ID", Align::right},
               {"NAME"},
               {"VM"},
               {"UPLINK"},
               {"PORT"},
               {"STATE"},
               {"CPU", Align::right},
               {"FILTERS", Align::right},
               {"RX", Align::right},
               {"DELIVERED", Align::right},
               {"DROPPED", Align::right}});
  for (const auto& q : list.queues) {
    // Counters vmqd could not read are shown as unknown, never as zero.
    const auto& c = q.counters;
    table.add_row({number(q.id), q.settings.name, q.settings.vm, q.settings.uplink, q.settings.port, q.state,
                   cpus_text(q), number(q.filters.size()), c ? number(c->classified.packets) : "",
                   c ? number(c->delivered.packets) : "", c ? number(api::dropped_total(*c)) : ""});
  }
  return table.render();
}

std::string queue_added_text(const api::Queue& q) {
  if (q.sub_queues.size() > 1)
    return fmt::format("queue {} added: {} with {} sub-queues on CPUs {}, {}\n", queue_label(q), q.state,
                       q.sub_queues.size(), cpus_text(q), first_filter_text(q));
  return fmt::format("queue {} added: {} on CPU {}, {}\n", queue_label(q), q.state, q.cpu, first_filter_text(q));
}

std::string queue_updated_text(const api::Queue& q) {
  return fmt::format("queue {} updated: CPU {}, VM {}, state {}\n", queue_label(q), q.cpu,
                     q.settings.vm.empty() ? "-" : q.settings.vm, q.state);
}

std::string queue_state_text(const api::Queue& q) { return fmt::format("queue {} is {}\n", queue_label(q), q.state); }

std::string queue_deleted_text(const api::QueueDelReply& d) {
  return fmt::format("queue {} deleted: {} frame(s) drained in {}\n", queue_label(api::QueueRef{d.id, d.name}),
                     d.drained_frames, duration_text(d.drain_us));
}

}  // namespace vmq::cli
