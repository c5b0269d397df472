#include "report.h"

#include <fmt/format.h>

#include <map>
#include <vector>

#include "bench_stats.h"

namespace vmq::bench {
namespace {

using nlohmann::json;

std::vector<double> per_round(const json& rounds, const std::string& id, const std::string& field) {
  std::vector<double> values;
  for (const auto& round : rounds) values.push_back(round.at("cases").at(id).at(field).get<double>());
  return values;
}

std::vector<double> ratios(const std::vector<double>& numerators, const std::vector<double>& denominators) {
  std::vector<double> out;
  for (std::size_t r = 0; r < std::min(numerators.size(), denominators.size()); ++r)
    out.push_back(denominators[r] > 0 ? numerators[r] / denominators[r] : 0);
  return out;
}

json spread_json(const std::vector<double>& values) {
  const Spread s = spread_of(values);
  return {{"median", s.median}, {"min", s.min}, {"max", s.max}, {"per_round", values}};
}

json ratio_json(const std::vector<double>& values, double target) {
  json j = spread_json(values);
  j["target"] = target;
  j["met"] = median(values) >= target;
  return j;
}

void accumulate(json& total, const json& value) {
  if (value.is_object()) {
    if (!total.is_object()) total = json::object();
    for (const auto& [key, inner] : value.items()) accumulate(total[key], inner);
  } else if (value.is_number_unsigned()) {
    total = (total.is_number_unsigned() ? total.get<std::uint64_t>() : std::uint64_t{0}) + value.get<std::uint64_t>();
  }
}

// Every counter under `field` of case `id`, summed over the rounds.
json summed(const json& rounds, const std::string& id, const std::string& field) {
  json total = json::object();
  for (const auto& round : rounds) accumulate(total, round.at("cases").at(id).value(field, json::object()));
  return total;
}

json summarize_receive(const json& receive) {
  const json& rounds = receive.at("rounds");
  json summary = {{"mpps", json::object()}, {"offered_mpps", json::object()}, {"device_rx_dropped_mpps", json::object()},
                  {"counters", json::object()}};
  for (const auto& [id, info] : receive.at("cases").items()) {
    summary["mpps"][id] = spread_json(per_round(rounds, id, "mpps"));
    summary["offered_mpps"][id] = median(per_round(rounds, id, "offered_mpps"));
    std::vector<double> dropped;
    for (const auto& round : rounds) {
      const json& c = round.at("cases").at(id);
      dropped.push_back(c.at("device_rx_dropped").get<double>() / c.at("seconds").get<double>() / 1e6);
    }
    summary["device_rx_dropped_mpps"][id] = median(dropped);
    summary["counters"][id] = summed(rounds, id, "counters");
  }
  const auto vmq = per_round(rounds, "vmq", "mpps");
  const auto raw = per_round(rounds, "raw_xsk", "mpps");
  const auto drop = per_round(rounds, "xdp_drop", "mpps");
  summary["ratios"] = {{"vmq_over_raw", ratio_json(ratios(vmq, raw), kTargetReceiveVsRaw)},
                       {"raw_over_xdp_drop", spread_json(ratios(raw, drop))},
                       {"vmq_over_xdp_drop", spread_json(ratios(vmq, drop))}};
  return summary;
}

json summarize_delivery(const json& delivery) {
  const json& rounds = delivery.at("rounds");
  json summary = {{"mpps", json::object()}, {"offered_mpps", json::object()}, {"drops", json::object()}};
  for (const std::string id : {"vmq", "bridge", "bridge_rps"}) {
    summary["mpps"][id] = spread_json(per_round(rounds, id, "mpps"));
    summary["offered_mpps"][id] = median(per_round(rounds, id, "offered_mpps"));
    json drops = json::object();
    for (const std::string field : {"delivered", "uplink_rx_packets", "uplink_rx_dropped", "vm_rx_dropped",
                                    "port_tx_dropped", "backlog_dropped"}) {
      std::uint64_t total = 0;
      for (const auto& round : rounds) total += round.at("cases").at(id).at(field).get<std::uint64_t>();
      drops[field] = total;
    }
    drops["vmq"] = summed(rounds, id, "vmq");
    summary["drops"][id] = drops;
  }
  summary["ratios"] = {
      {"vmq_over_bridge",
       ratio_json(ratios(per_round(rounds, "vmq", "mpps"), per_round(rounds, "bridge", "mpps")), kTargetDeliveryVsBridge)},
      {"vmq_over_bridge_rps",
       spread_json(ratios(per_round(rounds, "vmq", "mpps"), per_round(rounds, "bridge_rps", "mpps")))}};
  return summary;
}

json summarize_memory(const json& memory) {
  std::map<unsigned, std::map<std::string, std::vector<double>>> by_queues;
  for (const auto& instance : memory.at("rounds"))
    for (const auto& point : instance.at("points"))
      for (const char* field : {"VmRSS", "RssAnon", "RssFile", "RssShmem"})
        by_queues[point.at("queues").get<unsigned>()][field].push_back(point.at("kib").at(field).get<double>());
  const double umem_kib = memory.at("umem_kib").get<double>();
  json rows = json::array();
  for (const auto& [queues, fields] : by_queues) {
    const double rss = median(fields.at("VmRSS"));
    rows.push_back({{"queues", queues},
                    {"vmrss_kib", rss},
                    {"vmrss_without_umem_kib", rss - umem_kib},
                    {"rss_anon_kib", median(fields.at("RssAnon"))},
                    {"rss_file_kib", median(fields.at("RssFile"))},
                    {"rss_shmem_kib", median(fields.at("RssShmem"))}});
  }
  json summary = {{"rows", rows}, {"umem_kib", umem_kib}};
  if (rows.size() >= 3) {  // 0 queues, the smallest count above 0, ..., the largest
    const json& first = rows.at(1);
    const json& last = rows.back();
    const double queues = last.at("queues").get<double>() - first.at("queues").get<double>();
    if (queues > 0)
      summary["kib_per_queue"] = (last.at("vmrss_kib").get<double>() - first.at("vmrss_kib").get<double>()) / queues;
  }
  return summary;
}

std::string verdict(const json& ratio) { return ratio.at("met").get<bool>() ? "**met**" : "**missed**"; }

std::string rounds_text(const json& values, const char* format) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += ' ';
    out += fmt::format(fmt::runtime(format), v.get<double>());
  }
  return out;
}

std::string receive_markdown(const json& receive) {
  const json& s = receive.at("summary");
  std::string out = "### 1. Classified receive: Mpps counted at the consumer\n\n";
  out += "Placement S: generator and the receiving veth's softirq on one CPU, the consumer pinned to the other, "
         "busy-polling; 64-byte 802.1Q frames, 8 flows (MAC, VLAN).\n\n";
  out += "| path | median Mpps | min | max | per round | offered Mpps | receiving veth's rx_dropped, Mpps |\n";
  out += "|---|---:|---:|---:|---|---:|---:|\n";
  for (const std::string id : {"raw_xsk", "vmq", "xdp_drop"}) {
    const json& m = s.at("mpps").at(id);
    out += fmt::format("| {} | {:.3f} | {:.3f} | {:.3f} | {} | {:.3f} | {:.3f} |\n",
                       receive.at("cases").at(id).at("label").get<std::string>(), m.at("median").get<double>(),
                       m.at("min").get<double>(), m.at("max").get<double>(), rounds_text(m.at("per_round"), "{:.3f}"),
                       s.at("offered_mpps").at(id).get<double>(), s.at("device_rx_dropped_mpps").at(id).get<double>());
  }
  const json& r = s.at("ratios");
  out += "\n| ratio (computed per round) | median | min | max | target | verdict |\n|---|---:|---:|---:|---|---|\n";
  out += fmt::format("| vmq / raw AF_XDP socket | {:.3f} | {:.3f} | {:.3f} | >= {:.2f} | {} |\n",
                     r.at("vmq_over_raw").at("median").get<double>(), r.at("vmq_over_raw").at("min").get<double>(),
                     r.at("vmq_over_raw").at("max").get<double>(), kTargetReceiveVsRaw, verdict(r.at("vmq_over_raw")));
  for (const auto& [id, label] : {std::pair{"raw_over_xdp_drop", "raw / XDP_DROP (baseline: 0.59-0.62)"},
                                  std::pair{"vmq_over_xdp_drop", "vmq / XDP_DROP"}})
    out += fmt::format("| {} | {:.3f} | {:.3f} | {:.3f} | - | - |\n", label, r.at(id).at("median").get<double>(),
                       r.at(id).at("min").get<double>(), r.at(id).at("max").get<double>());
  out += fmt::format("\nCounters over all windows: raw {}; vmq {}\n", s.at("counters").at("raw_xsk").dump(),
                     s.at("counters").at("vmq").dump());
  return out;
}

std::string delivery_markdown(const json& delivery) {
  const json& s = delivery.at("summary");
  std::string out = "### 2. Delivery into the VMs: Mpps counted at the VMs' eth0 (rx_packets)\n\n";
  out += "| path | median Mpps | min | max | per round | offered Mpps |\n|---|---:|---:|---:|---|---:|\n";
  for (const std::string id : {"vmq", "bridge", "bridge_rps"}) {
    const json& m = s.at("mpps").at(id);
    out += fmt::format("| {} | {:.3f} | {:.3f} | {:.3f} | {} | {:.3f} |\n",
                       delivery.at("cases").at(id).at("label").get<std::string>(), m.at("median").get<double>(),
                       m.at("min").get<double>(), m.at("max").get<double>(), rounds_text(m.at("per_round"), "{:.3f}"),
                       s.at("offered_mpps").at(id).get<double>());
  }
  const json& r = s.at("ratios").at("vmq_over_bridge");
  out += "\n| ratio (computed per round) | median | min | max | target | verdict |\n|---|---:|---:|---:|---|---|\n";
  out += fmt::format("| vmq / Linux bridge | {:.3f} | {:.3f} | {:.3f} | >= {:.1f} | {} |\n", r.at("median").get<double>(),
                     r.at("min").get<double>(), r.at("max").get<double>(), kTargetDeliveryVsBridge, verdict(r));
  const json& both = s.at("ratios").at("vmq_over_bridge_rps");
  out += fmt::format("| vmq / Linux bridge on both CPUs (RPS) | {:.3f} | {:.3f} | {:.3f} | - | - |\n",
                     both.at("median").get<double>(), both.at("min").get<double>(), both.at("max").get<double>());
  const json& v = s.at("drops").at("vmq");
  const json& c = v.at("vmq");
  const double classified = c.value("classified", 0.0);
  auto share = [&](const char* key) { return classified > 0 ? 100.0 * c.value(key, 0.0) / classified : 0.0; };
  out += "\nWhere vmq's frames went (all windows summed; % of the frames the classifier sent to the queues):\n\n";
  out += "| classified to queues | taken by the worker | delivered (TX) | reached the VMs | dropped by vmq: quota | "
         "dropped by vmq: port TX ring full | dropped in the kernel: no free UMEM frame (xsk rx_dropped) | "
         "dropped in the kernel: RX ring full |\n";
  out += "|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  auto cell = [&](const char* key) {
    return fmt::format("{} ({:.1f}%)", c.value(key, std::uint64_t{0}), share(key));
  };
  out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", c.value("classified", std::uint64_t{0}),
                     cell("received"), cell("delivered"), v.at("delivered").get<std::uint64_t>(), cell("dropped_quota"),
                     cell("dropped_port_full"), cell("xsk_rx_dropped"), cell("xsk_rx_ring_full"));
  const json& b = s.at("drops").at("bridge");
  out += fmt::format("\nBridge path (all windows summed): arrived at uplink0 {}, reached the VMs {}, ports' tx_dropped "
                     "{}, VMs' rx_dropped {}, backlog drops (softnet_stat) {}, uplink0 rx_dropped {}. vmq path: "
                     "arrived at uplink0 {}, uplink0 rx_dropped {} (XDP redirects that failed, the no-free-frame "
                     "drops above), shared fill ring found empty {} times; UMEM frames vmqd lost for good {}.\n",
                     b.at("uplink_rx_packets").get<std::uint64_t>(), b.at("delivered").get<std::uint64_t>(),
                     b.at("port_tx_dropped").get<std::uint64_t>(), b.at("vm_rx_dropped").get<std::uint64_t>(),
                     b.at("backlog_dropped").get<std::uint64_t>(), b.at("uplink_rx_dropped").get<std::uint64_t>(),
                     v.at("uplink_rx_packets").get<std::uint64_t>(), v.at("uplink_rx_dropped").get<std::uint64_t>(),
                     c.value("xsk_rx_fill_ring_empty", std::uint64_t{0}), c.value("umem_frames_lost", std::uint64_t{0}));
  return out;
}

std::string memory_markdown(const json& memory) {
  const json& s = memory.at("summary");
  std::string out = "### 3. vmqd's resident memory (VmRSS)\n\n";
  out += fmt::format("UMEM: {} frames x 4 KiB x {} uplink rx queue(s) = {:.1f} MiB, populated at start and fixed per "
                     "uplink (part of RssAnon and VmRSS below); queues of 512 frames (vmqd's default). RssFile holds "
                     "the AF_XDP rings vmqd maps.\n\n",
                     memory.at("umem_frames").get<unsigned>(), memory.at("uplink_rx_queues").get<unsigned>(),
                     s.at("umem_kib").get<double>() / 1024);
  out += "| queues | VmRSS MiB | VmRSS without the UMEM, MiB | RssAnon MiB | RssFile MiB | VmRSS per instance, KiB |\n"
         "|---:|---:|---:|---:|---:|---|\n";
  for (const auto& row : s.at("rows")) {
    std::string instances;
    for (const auto& instance : memory.at("rounds"))
      for (const auto& point : instance.at("points"))
        if (point.at("queues") == row.at("queues")) {
          if (!instances.empty()) instances += ' ';
          instances += std::to_string(point.at("kib").at("VmRSS").get<std::uint64_t>());
        }
    out += fmt::format("| {} | {:.1f} | {:.1f} | {:.1f} | {:.1f} | {} |\n", row.at("queues").get<unsigned>(),
                       row.at("vmrss_kib").get<double>() / 1024, row.at("vmrss_without_umem_kib").get<double>() / 1024,
                       row.at("rss_anon_kib").get<double>() / 1024, row.at("rss_file_kib").get<double>() / 1024,
                       instances);
  }
  if (s.contains("kib_per_queue")) out += fmt::format("\nEach further queue: {:.1f} KiB.\n", s.at("kib_per_queue").get<double>());
  return out;
}

}  // namespace

void summarize(json& document) {
  if (document.contains("receive")) document["receive"]["summary"] = summarize_receive(document["receive"]);
  if (document.contains("delivery")) document["delivery"]["summary"] = summarize_delivery(document["delivery"]);
  if (document.contains("memory")) document["memory"]["summary"] = summarize_memory(document["memory"]);
}

std::string to_markdown(const json& document) {
  std::string out = "## vmq data path (vmq-bench-datapath)\n\n";
  out += fmt::format("Command: `{}`  \nMachine: {}, {} CPUs; started {}; {} rounds of {} s windows after {} s of "
                     "warm-up.\n\n",
                     document.at("command").get<std::string>(), document.at("kernel").get<std::string>(),
                     document.at("cpus").get<unsigned>(), document.at("started").get<std::string>(),
                     document.at("options").at("rounds").get<unsigned>(),
                     document.at("options").at("window_seconds").get<double>(),
                     document.at("options").at("warmup_seconds").get<double>());
  if (document.contains("receive")) out += receive_markdown(document.at("receive")) + "\n";
  if (document.contains("delivery")) out += delivery_markdown(document.at("delivery")) + "\n";
  if (document.contains("memory")) out += memory_markdown(document.at("memory")) + "\n";
  return out;
}

}  // namespace vmq::bench
