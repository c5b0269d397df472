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

// A case of two paths measured side by side: each path's Mpps over the
// rounds, and `second` / `first` computed per round.
json two_paths_summary(const json& rounds, const std::string& first, const std::string& second,
                       const std::string& ratio_id) {
  json summary = {{"mpps", json::object()}, {"offered_mpps", json::object()}};
  for (const std::string& id : {first, second}) {
    summary["mpps"][id] = spread_json(per_round(rounds, id, "mpps"));
    summary["offered_mpps"][id] = median(per_round(rounds, id, "offered_mpps"));
  }
  summary["ratios"] = {
      {ratio_id, spread_json(ratios(per_round(rounds, second, "mpps"), per_round(rounds, first, "mpps")))}};
  return summary;
}

// Each round's "on" path: where the queues ended, the moves, the busy
// shares beside those of the same round's "off" path.
json summarize_rebalance(const json& rebalance) {
  const json& rounds = rebalance.at("rounds");
  json summary = two_paths_summary(rounds, "off", "on", "on_over_off");
  summary["placements"] = json::array();
  for (const auto& round : rounds) {
    const json& on = round.at("cases").at("on");
    const json& off = round.at("cases").at("off");
    summary["placements"].push_back({{"cpu_of", on.at("cpu_of")},
                                     {"moves", on.at("moves")},
                                     {"moves_in_window", on.at("moves_in_window")},
                                     {"settled", on.at("settled")},
                                     {"settle_seconds", on.at("settle_seconds")},
                                     {"busy_on", on.at("cpus_at_window_end")},
                                     {"busy_off", off.at("cpus_at_window_end")}});
  }
  return summary;
}

json summarize_subqueues(const json& subqueues) {
  return two_paths_summary(subqueues.at("rounds"), "one", "two", "two_over_one");
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

// A two-path case's tables: each path's Mpps, then `second` / `first` per round.
std::string two_paths_markdown(const json& results, const std::string& first, const std::string& second,
                               const std::string& ratio_id, const std::string& ratio_label) {
  const json& s = results.at("summary");
  std::string out = "| path | median Mpps | min | max | per round | offered Mpps |\n|---|---:|---:|---:|---|---:|\n";
  for (const std::string& id : {first, second}) {
    const json& m = s.at("mpps").at(id);
    out += fmt::format("| {} | {:.3f} | {:.3f} | {:.3f} | {} | {:.3f} |\n",
                       results.at("cases").at(id).at("label").get<std::string>(), m.at("median").get<double>(),
                       m.at("min").get<double>(), m.at("max").get<double>(), rounds_text(m.at("per_round"), "{:.3f}"),
                       s.at("offered_mpps").at(id).get<double>());
  }
  const json& r = s.at("ratios").at(ratio_id);
  out += "\n| ratio (computed per round) | median | min | max | per round |\n|---|---:|---:|---:|---|\n";
  out += fmt::format("| {} | {:.3f} | {:.3f} | {:.3f} | {} |\n", ratio_label, r.at("median").get<double>(),
                     r.at("min").get<double>(), r.at("max").get<double>(), rounds_text(r.at("per_round"), "{:.3f}"));
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

// "CPU 0 93% (w 41% + si 52%)": a CPU's busy share and its two parts.
std::string busy_cell(const json& cpus) {
  std::string out;
  auto percent = [](const json& share) {
    return share.is_null() ? std::string("-") : fmt::format("{:.0f}%", 100 * share.get<double>());
  };
  for (const auto& c : cpus) {
    if (!out.empty()) out += "; ";
    out += fmt::format("CPU {} {} (worker {} + softirq {})", c.at("cpu").get<unsigned>(), percent(c.at("busy_share")),
                       percent(c.at("worker_share")), percent(c.at("softirq_share")));
  }
  return out;
}

// "CPU 0: vm2 vm4 vm5; CPU 1: vm1 vm3": the queues of each CPU.
std::string placement_cell(const json& cpu_of) {
  std::map<unsigned, std::string> by_cpu;
  for (const auto& [vm, cpu] : cpu_of.items()) {
    std::string& names = by_cpu[cpu.get<unsigned>()];
    names += (names.empty() ? "" : " ") + vm;
  }
  std::string out;
  for (const auto& [cpu, names] : by_cpu) out += fmt::format("{}CPU {}: {}", out.empty() ? "" : "; ", cpu, names);
  return out;
}

std::string rebalance_markdown(const json& rebalance, const json& document) {
  const json& s = rebalance.at("summary");
  const json& settings = rebalance.at("rebalance");
  const unsigned generator_cpu = rebalance.at("generator_cpu").get<unsigned>();
  std::string flows;
  for (const auto& f : rebalance.at("flows")) flows += (flows.empty() ? "" : ",") + f.get<std::string>();
  std::string out = "### 4. Dynamic VMQ: skewed load, vmqd's rebalancer off vs on (Mpps at the VMs' eth0)\n\n";
  out += fmt::format(
      "CPU: {}. Placement: the generator and uplink0's receive softirq (vmq's classifier included) on CPU {}; "
      "vmqd's {} queues are added there (`--cpu {}`) and set to `auto`, so one worker shares CPU {} with them while "
      "the other CPU idles until the rebalancer moves queues. Traffic: the delivery case's frames, flows rotated "
      "{} (3/8 of the frames each to vm1 and vm2, 1/8 to vm3 and vm4). vmqd.toml `[rebalance]`: interval_ms = {}, "
      "high = {}, low = {}, sustain = {}, cooldown = {}, pack = false; \"on\" rewrites it with enabled = true and "
      "sends SIGHUP, then waits (at most {} s, with traffic) until the rebalancer has moved a queue and no queue has "
      "moved for {} s; \"off\" runs the same traffic {} s. Both then warm up and count like the delivery case. "
      "Queues are deleted and the rebalancer turned off between paths; the order alternates per round.\n\n",
      document.value("cpu_model", std::string("unknown CPU")), generator_cpu, rebalance.at("queues").get<unsigned>(),
      generator_cpu, generator_cpu, flows, settings.at("interval_ms").get<unsigned>(),
      settings.at("high").get<double>(), settings.at("low").get<double>(), settings.at("sustain").get<unsigned>(),
      settings.at("cooldown").get<unsigned>(), rebalance.at("settle_limit_seconds").get<double>(),
      rebalance.at("stable_seconds").get<double>(), rebalance.at("stable_seconds").get<double>());
  out += two_paths_markdown(rebalance, "off", "on", "on_over_off", "rebalancer on / off");
  out += "\nPlacement after rebalancing, and the CPUs' busy shares as vmqd measured them (its last round at the end "
         "of each window):\n\n";
  out += "| round | queues per CPU (on) | moves (in the window) | settled after | busy, off | busy, on |\n"
         "|---:|---|---:|---|---|---|\n";
  unsigned n = 0;
  for (const auto& p : s.at("placements"))
    out += fmt::format("| {} | {} | {} ({}) | {} | {} | {} |\n", ++n, placement_cell(p.at("cpu_of")),
                       p.at("moves").get<std::uint64_t>(), p.at("moves_in_window").get<std::uint64_t>(),
                       p.at("settled").get<bool>() ? fmt::format("{:.1f} s", p.at("settle_seconds").get<double>())
                                                   : fmt::format("not settled ({:.1f} s)",
                                                                 p.at("settle_seconds").get<double>()),
                       busy_cell(p.at("busy_off")), busy_cell(p.at("busy_on")));
  return out;
}

std::string subqueues_markdown(const json& subqueues, const json& document) {
  std::string out = "### 5. VMMQ: one VM through 1 vs 2 sub-queues (Mpps at the VM's eth0)\n\n";
  out += fmt::format(
      "{}. The generator (CPU {}, with the receive softirq) sends the delivery case's frames to vm1 only, its UDP "
      "source port rotated over {} values: {} IP flows for the classifier's flow hash. The VM's port has 2 queues. "
      "Queue deleted between paths; the order alternates per round.\n\n",
      document.value("cpu_model", std::string("unknown CPU")), subqueues.at("generator_cpu").get<unsigned>(),
      subqueues.at("source_ports").get<unsigned>(), subqueues.at("source_ports").get<unsigned>());
  out += two_paths_markdown(subqueues, "one", "two", "two_over_one", "2 sub-queues / 1");
  out += "\nFrames each sub-queue took in the window, and the CPUs' busy shares (vmqd's last round):\n\n"
         "| round | path | received by sub-queue | busy |\n|---:|---|---|---|\n";
  unsigned n = 0;
  for (const auto& round : subqueues.at("rounds")) {
    ++n;
    for (const std::string id : {"one", "two"}) {
      const json& c = round.at("cases").at(id);
      std::string shares;
      for (const auto& q : c.at("sub_queues"))
        shares += fmt::format("{}CPU {}: {}", shares.empty() ? "" : ", ", q.at("cpu").get<unsigned>(),
                              q.at("received").get<std::uint64_t>());
      out += fmt::format("| {} | {} | {} | {} |\n", n, id, shares, busy_cell(c.at("cpus_at_window_end")));
    }
  }
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
  if (document.contains("rebalance")) document["rebalance"]["summary"] = summarize_rebalance(document["rebalance"]);
  if (document.contains("subqueues")) document["subqueues"]["summary"] = summarize_subqueues(document["subqueues"]);
}

std::string to_markdown(const json& document) {
  std::string out = "## vmq data path (vmq-bench-datapath)\n\n";
  out += fmt::format("Command: `{}`  \nMachine: {}, {}, {} CPUs; started {}; {} rounds of {} s windows after {} s of "
                     "warm-up.\n\n",
                     document.at("command").get<std::string>(), document.at("kernel").get<std::string>(),
                     document.value("cpu_model", std::string("unknown CPU")),
                     document.at("cpus").get<unsigned>(), document.at("started").get<std::string>(),
                     document.at("options").at("rounds").get<unsigned>(),
                     document.at("options").at("window_seconds").get<double>(),
                     document.at("options").at("warmup_seconds").get<double>());
  if (document.contains("receive")) out += receive_markdown(document.at("receive")) + "\n";
  if (document.contains("delivery")) out += delivery_markdown(document.at("delivery")) + "\n";
  if (document.contains("memory")) out += memory_markdown(document.at("memory")) + "\n";
  if (document.contains("rebalance")) out += rebalance_markdown(document.at("rebalance"), document) + "\n";
  if (document.contains("subqueues")) out += subqueues_markdown(document.at("subqueues"), document) + "\n";
  return out;
}

}  // namespace vmq::bench
