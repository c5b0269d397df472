#include "stats_text.h"

#include <fmt/format.h>

#include "format.h"
#include "table.h"

namespace vmq::cli {
namespace {

std::string default_queue_text(const api::UplinkStats& uplink, RateTracker* rates) {
  std::vector<Column> columns{{"REASON"}, {"PACKETS", Align::right}, {"BYTES", Align::right}};
  if (rates) columns.push_back({"PACKETS/s", Align::right});
  Table table(columns, 2);
  auto add = [&](const std::string& reason, const api::Traffic& t) {
    std::vector<std::string> row{reason, std::to_string(t.packets), std::to_string(t.bytes)};
    if (rates) row.push_back(rate_text(rates->rate(uplink.name + "/" + reason, t.packets)));
    table.add_row(std::move(row));
  };
  // In the data path's order, then any reason a newer agent adds (the reply keeps that order), then the total.
  for (const auto& r : uplink.default_queue.by_reason) add(r.reason, r.traffic);
  add("total", uplink.default_queue.total);

  const api::Umem& umem = uplink.umem;
  return fmt::format("uplink {}: default queue (the host's switch)\n", uplink.name) + table.render() +
         fmt::format("  UMEM: {} frames: {} in kernel, {} in flight, {} in worker, {} lost; fill ring {}\n",
                     umem.frames_total, umem.frames_in_kernel, umem.frames_in_flight, umem.frames_in_worker,
                     umem.frames_lost, umem.fill_ring_entries);
}

std::string queues_text(const std::vector<api::Queue>& queues, RateTracker* rates) {
  std::vector<Column> columns{{"ID", Align::right}, {"NAME"}, {"UPLINK"}, {"STATE"}};
  for (const char* counter : {"RX", "DELIVERED", "DROPPED", "CHECKSUMS"}) {
    columns.push_back({counter, Align::right});
    if (rates) columns.push_back({fmt::format("{}/s", counter), Align::right});
  }
  columns.push_back({"IN FLIGHT", Align::right});
  Table table(columns, 2);
  for (const auto& q : queues) {
    const std::string id = std::to_string(q.id);
    std::vector<std::string> row{id, q.settings.name, q.settings.uplink, q.state};
    // Counters vmqd could not read are unknown ("-"), never zero.
    const auto& c = q.counters;
    const std::pair<const char*, std::optional<std::uint64_t>> counters[] = {
        {"rx", c ? std::optional(c->classified.packets) : std::nullopt},
        {"delivered", c ? std::optional(c->delivered.packets) : std::nullopt},
        {"dropped", c ? std::optional(api::dropped_total(*c)) : std::nullopt},
        {"checksums", c ? std::optional(c->checksum_completed) : std::nullopt}};
    for (const auto& [name, value] : counters) {
      row.push_back(value ? std::to_string(*value) : "");
      if (rates)
        row.push_back(value ? rate_text(rates->rate(fmt::format("queue/{}/{}", id, name), *value)) : rate_text({}));
    }
    row.push_back(c ? std::to_string(c->in_flight) : "");
    table.add_row(std::move(row));
  }
  return "queues:\n" + table.render();
}

std::string workers_text(const std::vector<api::Worker>& workers) {
  Table table({{"CPU", Align::right}, {"TID", Align::right}, {"QUEUES", Align::right}, {"BUSY", Align::right},
               {"NS/FRAME", Align::right}, {"FRAMES", Align::right}},
              2);
  for (const auto& w : workers)
    table.add_row({std::to_string(w.cpu), std::to_string(w.tid), std::to_string(w.queues),
                   w.busy_share ? fmt::format("{:.1f}%", 100 * *w.busy_share) : "-",
                   w.ns_per_frame ? fmt::format("{:.0f}", *w.ns_per_frame) : "-", std::to_string(w.frames)});
  return "workers (busy share and CPU time per frame over the last second):\n" + table.render();
}

}  // namespace

std::string stats_text(const api::StatsReply& stats, bool one_queue, RateTracker* rates) {
  if (rates) rates->next_sample(static_cast<std::int64_t>(stats.uptime_ms));
  std::string out;
  if (!one_queue) {
    for (const auto& uplink : stats.uplinks) out += default_queue_text(uplink, rates) + "\n";
    out += workers_text(stats.workers) + "\n";
  }
  return out + queues_text(stats.queues, rates);
}

}  // namespace vmq::cli
