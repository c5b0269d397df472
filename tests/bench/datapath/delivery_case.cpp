#include "delivery_case.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "counter_difference.h"
#include "frames.h"
#include "generator.h"
#include "lab_vms.h"
#include "link_stats.h"
#include "process.h"
#include "vmqd.h"
#include "window.h"

namespace vmq::bench {
namespace {

constexpr const char* kUplink = kLabUplink;

struct DeliveryLab {
  std::string host_ns;
  std::unique_ptr<LinkStatsReader> host_stats;
  std::vector<VmEnd> vms;
  std::unique_ptr<Generator> generator;
  std::unique_ptr<Vmqd> vmqd;
};

Result<void> add_static_fdb_entries(const DeliveryLab& lab) {
  for (const auto& vm : lab.vms) {
    auto ok = run_checked({"bridge", "-n", lab.host_ns, "fdb", "replace", vm.flow.mac.to_string(), "dev", vm.port,
                           "master", "static"});
    if (!ok) return std::unexpected(ok.error());
  }
  return {};
}

Result<DeliveryLab> set_up(const Options& options) {
  DeliveryLab lab;
  lab.host_ns = options.lab + "-host1";
  auto host_stats = LinkStatsReader::open(lab.host_ns);
  if (!host_stats) return std::unexpected(host_stats.error());
  lab.host_stats = std::make_unique<LinkStatsReader>(std::move(*host_stats));
  const auto flows = make_flows(kFirstVmMac, kFirstVlan, options.vms);
  auto vms = open_lab_vms(options.lab, flows);
  if (!vms) return std::unexpected(vms.error());
  lab.vms = std::move(*vms);
  if (auto ok = add_static_fdb_entries(lab); !ok) return std::unexpected(ok.error());
  auto generator = Generator::load({options.lab + "-wire", "wire0", options.generator_cpu, flows, kWireMac});
  if (!generator) return std::unexpected(generator.error());
  lab.generator = std::move(*generator);
  auto vmqd = Vmqd::start({options.vmqd, options.vmqctl, lab.host_ns, kUplink, options.workdir + "/delivery", 64,
                           options.umem_frames});
  if (!vmqd) return std::unexpected(vmqd.error());
  lab.vmqd = std::move(*vmqd);
  return lab;
}

Result<void> add_queues(DeliveryLab& lab, const Options& options) {
  for (const auto& vm : lab.vms) {
    if (auto ok = add_vm_queue(*lab.vmqd, vm, options.consumer_cpu); !ok) return ok;
  }
  return {};
}

Result<void> delete_queues(DeliveryLab& lab) {
  for (const auto& vm : lab.vms)
    if (auto ok = lab.vmqd->ctl({"queue", "del", queue_name(vm)}); !ok) return std::unexpected(ok.error());
  return {};
}

// Frames the kernel dropped because a CPU's backlog was full (second column
// of /proc/net/softnet_stat, summed over CPUs).
std::uint64_t backlog_drops() {
  std::ifstream in("/proc/net/softnet_stat");
  std::uint64_t total = 0;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string processed, dropped;
    if (fields >> processed >> dropped) total += std::stoull(dropped, nullptr, 16);
  }
  return total;
}

}  // namespace

// vmqd's counters summed over the queues, and the default queue's total.
nlohmann::json vmq_counters(const nlohmann::json& stats) {
  std::uint64_t classified = 0, received = 0, delivered = 0, port_full = 0, quota = 0, port_refused = 0;
  std::uint64_t port_errors = 0, checksums = 0;
  std::uint64_t ring_full = 0, fill_empty = 0, xsk_dropped = 0;
  for (const auto& q : stats.at("queues")) {
    const auto& c = q.at("counters");
    classified += c.at("classified").at("packets").get<std::uint64_t>();
    received += c.at("received").get<std::uint64_t>();
    delivered += c.at("delivered").at("packets").get<std::uint64_t>();
    port_full += c.at("dropped").at("port_full").get<std::uint64_t>();
    quota += c.at("dropped").at("quota").get<std::uint64_t>();
    port_refused += c.at("dropped").at("port_refused").get<std::uint64_t>();
    checksums += c.at("checksum_completed").get<std::uint64_t>();
    port_errors += c.at("port_errors").get<std::uint64_t>();
    ring_full += c.at("xsk").at("rx_ring_full").get<std::uint64_t>();
    // The sockets of one rx queue share its buffer pool, and each reports
    // the pool's count: it is the same number for every queue.
    fill_empty = std::max(fill_empty, c.at("xsk").at("rx_fill_ring_empty").get<std::uint64_t>());
    xsk_dropped += c.at("xsk").at("rx_dropped").get<std::uint64_t>();
  }
  std::uint64_t default_queue = 0, umem_lost = 0;
  for (const auto& u : stats.at("uplinks")) {
    default_queue += u.at("default_queue").at("total").at("packets").get<std::uint64_t>();
    umem_lost += u.at("umem").at("frames_lost").get<std::uint64_t>();
  }
  return {{"classified", classified},       {"received", received},
          {"delivered", delivered},         {"dropped_port_full", port_full},
          {"dropped_quota", quota},         {"dropped_port_refused", port_refused},
          {"port_errors", port_errors},     {"checksum_completed", checksums},
          {"xsk_rx_ring_full", ring_full},  {"xsk_rx_fill_ring_empty", fill_empty},
          {"xsk_rx_dropped", xsk_dropped},  {"default_queue", default_queue},
          {"umem_frames_lost", umem_lost}};
}

namespace {

struct Snapshot {
  std::vector<std::uint64_t> vm_rx;
  std::uint64_t vm_rx_dropped = 0;
  std::uint64_t port_tx_dropped = 0;
  LinkCounters uplink;
  std::uint64_t sent = 0;
  std::uint64_t backlog_dropped = 0;
  nlohmann::json vmq;
};

Result<Snapshot> snapshot_of(DeliveryLab& lab) {
  Snapshot s;
  for (const auto& vm : lab.vms) {
    auto eth0 = vm.stats->read("eth0");
    if (!eth0) return std::unexpected(eth0.error());
    s.vm_rx.push_back(eth0->rx_packets);
    s.vm_rx_dropped += eth0->rx_dropped;
  }
  s.sent = lab.generator->frames_sent();
  for (const auto& vm : lab.vms) {
    auto port = lab.host_stats->read(vm.port);
    if (!port) return std::unexpected(port.error());
    s.port_tx_dropped += port->tx_dropped;
  }
  auto uplink = lab.host_stats->read(kUplink);
  if (!uplink) return std::unexpected(uplink.error());
  s.uplink = *uplink;
  s.backlog_dropped = backlog_drops();
  auto stats = lab.vmqd->ctl({"stats"});
  if (!stats) return std::unexpected(stats.error());
  s.vmq = vmq_counters(*stats);
  return s;
}

Result<nlohmann::json> measure_path(DeliveryLab& lab, const Options& options) {
  Snapshot start, end;
  auto take = [&lab](Snapshot& into) -> Result<void> {
    auto s = snapshot_of(lab);
    if (!s) return std::unexpected(s.error());
    into = std::move(*s);
    return {};
  };
  WindowProbe probe{[&] { return take(start); }, [&] { return take(end); }};
  auto seconds = measure_window(*lab.generator, options.warmup_seconds, options.window_seconds, probe);
  if (!seconds) return std::unexpected(seconds.error());
  std::uint64_t delivered = 0;
  nlohmann::json per_vm = nlohmann::json::array();
  for (std::size_t i = 0; i < end.vm_rx.size(); ++i) {
    delivered += end.vm_rx[i] - start.vm_rx[i];
    per_vm.push_back(end.vm_rx[i] - start.vm_rx[i]);
  }
  if (delivered == 0) return fail(Errc::system, "no frame reached the VMs in the window");
  const LinkCounters uplink = end.uplink - start.uplink;
  return nlohmann::json{{"mpps", per_second_millions(delivered, *seconds)},
                        {"offered_mpps", per_second_millions(end.sent - start.sent, *seconds)},
                        {"seconds", *seconds},
                        {"delivered", delivered},
                        {"delivered_per_vm", per_vm},
                        {"uplink_rx_packets", uplink.rx_packets},
                        {"uplink_rx_dropped", uplink.rx_dropped},
                        {"vm_rx_dropped", end.vm_rx_dropped - start.vm_rx_dropped},
                        {"port_tx_dropped", end.port_tx_dropped - start.port_tx_dropped},
                        {"backlog_dropped", end.backlog_dropped - start.backlog_dropped},
                        {"vmq", counter_difference(end.vmq, start.vmq)}};
}

// Receive Packet Steering on the uplink: the bridge's work (and the VMs'
// receive) moves to `cpus`, the CPUs of the mask; 0 turns it off.
Result<void> steer_uplink(const DeliveryLab& lab, unsigned mask) {
  auto ok = run_checked({"ip", "netns", "exec", lab.host_ns, "sh", "-c",
                         fmt::format("echo {:x} > /sys/class/net/{}/queues/rx-0/rps_cpus", mask, kUplink)});
  if (!ok) return std::unexpected(ok.error());
  return {};
}

// Measures with the lab changed by `change` and put back by `restore`, which
// runs also when the measurement fails.
template <typename Change, typename Restore>
Result<nlohmann::json> measure_changed(DeliveryLab& lab, const Options& options, Change change, Restore restore) {
  if (auto ok = change(); !ok) return std::unexpected(ok.error());
  auto figures = measure_path(lab, options);
  auto restored = restore();
  if (!figures) return figures;
  if (!restored) return std::unexpected(restored.error());
  return figures;
}

// The bridge with the consumer CPU doing its work, as vmq's worker does: both
// paths then use both CPUs.
Result<nlohmann::json> measure_bridge_on_both_cpus(DeliveryLab& lab, const Options& options) {
  return measure_changed(
      lab, options, [&] { return steer_uplink(lab, 1u << options.consumer_cpu); },
      [&] { return steer_uplink(lab, 0); });
}

Result<nlohmann::json> measure_vmq(DeliveryLab& lab, const Options& options) {
  return measure_changed(
      lab, options, [&] { return add_queues(lab, options); }, [&] { return delete_queues(lab); });
}

}  // namespace

Result<nlohmann::json> run_delivery_case(const Options& options) {
  auto lab = set_up(options);
  if (!lab) return std::unexpected(lab.error());
  nlohmann::json rounds = nlohmann::json::array();
  for (unsigned r = 0; r < options.rounds; ++r) {
    nlohmann::json round = {{"order", nlohmann::json::array()}, {"cases", nlohmann::json::object()}};
    std::vector<std::string> order{"vmq", "bridge", "bridge_rps"};
    std::rotate(order.begin(), order.begin() + r % order.size(), order.end());
    for (const auto& path : order) {
      auto figures = path == "vmq"      ? measure_vmq(*lab, options)
                     : path == "bridge" ? measure_path(*lab, options)
                                        : measure_bridge_on_both_cpus(*lab, options);
      if (!figures)
        return fail(figures.error().code, fmt::format("delivery case {}, round {}: {}", path, r + 1,
                                                      figures.error().message));
      std::cerr << fmt::format("delivery round {}: {:<6} {:.3f} Mpps into the VMs (offered {:.3f})\n", r + 1, path,
                               (*figures)["mpps"].get<double>(), (*figures)["offered_mpps"].get<double>());
      round["order"].push_back(path);
      round["cases"][path] = std::move(*figures);
    }
    rounds.push_back(std::move(round));
  }
  auto stopped = lab->vmqd->stop();
  if (!stopped) return std::unexpected(stopped.error());
  return nlohmann::json{
      {"cases",
       {{"vmq", {{"label", fmt::format("vmqd: {} queues (vmqctl), worker on CPU {}, AF_XDP TX to the ports",
                                       options.vms, options.consumer_cpu)}}},
        {"bridge", {{"label", "Linux bridge, static FDB entries (vmq's queues deleted: classifier passes)"}}},
        {"bridge_rps",
         {{"label", fmt::format("same, with RPS moving the bridge's work to CPU {} (both CPUs busy, as with vmq)",
                                options.consumer_cpu)}}}}},
      {"rounds", rounds}};
}

}  // namespace vmq::bench
