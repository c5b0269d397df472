#include "rebalance_case.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "alternating_rounds.h"
#include "counter_difference.h"
#include "delivery_case.h"
#include "frames.h"
#include "generator.h"
#include "lab_vms.h"
#include "link_stats.h"
#include "vmqd.h"
#include "window.h"

namespace vmq::bench {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr const char* kUplink = kLabUplink;

// The generator's flows, by VM number, rotated frame by frame: 3/8 of the
// frames each to vm1 and vm2, 1/8 each to vm3 and vm4, none to the others.
constexpr unsigned kSkew[] = {1, 2, 1, 2, 1, 2, 3, 4};
constexpr unsigned kSkewVms = 4;  // the lab needs vm1..vm4 at least

// vmqd.toml's [rebalance], enabled or not. Quicker than vmqd's defaults
// (500 ms rounds, 2 to act) so that a move comes within seconds; no packing,
// which this case does not measure.
constexpr unsigned kIntervalMs = 500;
constexpr double kHigh = 0.6;
constexpr double kLow = 0.2;
constexpr unsigned kSustain = 2;
constexpr unsigned kCooldown = 20;

// Bounded waits. The rebalancer moves at most one queue per overloaded CPU
// every sustain + 1 rounds (1.5 s here); the placement is taken as settled
// once it has not changed for kStableSeconds after the first move.
constexpr double kSettleLimitSeconds = 15.0;
constexpr double kStableSeconds = 3.0;
constexpr double kPollSeconds = 0.5;
constexpr double kReloadLimitSeconds = 5.0;
constexpr double kBusyLimitSeconds = 10.0;  // a worker answers a move within 5 s or it is withdrawn

struct RebalanceLab {
  std::string host_ns;
  std::string config_path;
  std::vector<VmEnd> vms;
  std::unique_ptr<Generator> generator;
  std::unique_ptr<Vmqd> vmqd;
};

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

json rebalance_settings(bool enabled) {
  return {{"enabled", enabled},   {"interval_ms", kIntervalMs}, {"high", kHigh}, {"low", kLow},
          {"sustain", kSustain},  {"cooldown", kCooldown},      {"pack", false}};
}

Result<void> write_config(const std::string& path, bool enabled) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "# vmq-bench-datapath, case rebalance: only [rebalance]; vmqd's flags give the rest\n"
        << "[rebalance]\n"
        << fmt::format("enabled = {}\ninterval_ms = {}\nhigh = {}\nlow = {}\nsustain = {}\ncooldown = {}\n"
                       "pack = false\n",
                       enabled, kIntervalMs, kHigh, kLow, kSustain, kCooldown);
    if (!out) return fail(Errc::system, fmt::format("cannot write {}", tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return fail(Errc::system, fmt::format("renaming {}: {}", tmp, ec.message()));
  return {};
}

// Rewrites vmqd.toml, SIGHUPs vmqd and waits until `status` shows the
// rebalancer enabled or disabled as asked.
Result<void> set_rebalancer(RebalanceLab& lab, bool enabled) {
  if (auto ok = write_config(lab.config_path, enabled); !ok) return ok;
  if (auto ok = lab.vmqd->reload(); !ok) return ok;
  const auto start = Clock::now();
  while (seconds_since(start) < kReloadLimitSeconds) {
    auto status = lab.vmqd->ctl({"status"});
    if (!status) return std::unexpected(status.error());
    if (status->at("rebalancer").at("enabled").get<bool>() == enabled) return {};
    if (auto ok = pause_for(0.1); !ok) return ok;
  }
  return fail(Errc::timeout, fmt::format("vmqd did not {} its rebalancer within {} s of SIGHUP:\n{}",
                                         enabled ? "enable" : "disable", kReloadLimitSeconds, lab.vmqd->log_tail()));
}

Result<RebalanceLab> set_up(const Options& options) {
  if (options.vms < kSkewVms)
    return fail(Errc::invalid_argument, fmt::format("the rebalance case needs at least {} VMs (--vms)", kSkewVms));
  RebalanceLab lab;
  lab.host_ns = options.lab + "-host1";
  const auto flows = make_flows(kFirstVmMac, kFirstVlan, options.vms);
  auto vms = open_lab_vms(options.lab, flows);
  if (!vms) return std::unexpected(vms.error());
  lab.vms = std::move(*vms);
  std::vector<Flow> skewed;
  for (unsigned vm : kSkew) skewed.push_back(flows[vm - 1]);
  auto generator = Generator::load({options.lab + "-wire", "wire0", options.generator_cpu, skewed, kWireMac});
  if (!generator) return std::unexpected(generator.error());
  lab.generator = std::move(*generator);
  const std::string workdir = options.workdir + "/rebalance";
  std::error_code ec;
  std::filesystem::create_directories(workdir, ec);
  if (ec) return fail(Errc::system, fmt::format("creating {}: {}", workdir, ec.message()));
  lab.config_path = workdir + "/vmqd.toml";
  if (auto ok = write_config(lab.config_path, false); !ok) return std::unexpected(ok.error());
  VmqdOptions vmqd_options{options.vmqd, options.vmqctl, lab.host_ns, kUplink, workdir, 64, options.umem_frames};
  vmqd_options.config = lab.config_path;
  auto vmqd = Vmqd::start(vmqd_options);
  if (!vmqd) return std::unexpected(vmqd.error());
  lab.vmqd = std::move(*vmqd);
  return lab;
}

// Every queue on the generator's CPU, then auto: it stays there until the
// rebalancer moves it.
Result<void> add_queues(RebalanceLab& lab, const Options& options) {
  for (const auto& vm : lab.vms) {
    if (auto ok = add_vm_queue(*lab.vmqd, vm, options.generator_cpu); !ok) return ok;
    auto set = lab.vmqd->ctl({"queue", "set", queue_name(vm), "--cpu", "auto"});
    if (!set) return std::unexpected(set.error());
  }
  return {};
}

// A queue the rebalancer is moving (a move it began before it was turned
// off) refuses deletion as busy until the move is answered: retried, bounded.
Result<void> delete_queues(RebalanceLab& lab) {
  for (const auto& vm : lab.vms) {
    const auto start = Clock::now();
    for (;;) {
      auto ok = lab.vmqd->ctl({"queue", "del", queue_name(vm)});
      if (ok) break;
      if (ok.error().message.find("busy") == std::string::npos || seconds_since(start) >= kBusyLimitSeconds)
        return std::unexpected(ok.error());
      if (auto paused = pause_for(0.1); !paused) return paused;
    }
  }
  return {};
}

// Where each queue is: {"vm1": {"cpu", "cpu_mode", "last_move"?}, ...}.
Result<json> placement_of(RebalanceLab& lab) {
  auto list = lab.vmqd->ctl({"queue", "list"});
  if (!list) return std::unexpected(list.error());
  json out = json::object();
  for (const auto& q : list->at("queues")) {
    json entry = {{"cpu", q.at("cpu")}, {"cpu_mode", q.at("cpu_mode")}};
    if (q.contains("last_move")) entry["last_move"] = q.at("last_move");
    std::string name = q.at("name").get<std::string>();  // bench-vmN
    if (name.starts_with("bench-")) name.erase(0, 6);
    out[name] = std::move(entry);
  }
  return out;
}

// The CPU of each queue only: what "the placement changed" compares.
std::map<std::string, unsigned> cpus_of(const json& placement) {
  std::map<std::string, unsigned> out;
  for (const auto& [vm, entry] : placement.items()) out[vm] = entry.at("cpu").get<unsigned>();
  return out;
}

struct Load {
  json cpus;  // status's cpus[]: cpu, queues, busy_share, worker_share, softirq_share
  std::uint64_t moves = 0;
};

Result<Load> load_of(RebalanceLab& lab) {
  auto status = lab.vmqd->ctl({"status"});
  if (!status) return std::unexpected(status.error());
  return Load{status->at("cpus"), status->at("rebalancer").at("moves").get<std::uint64_t>()};
}

struct Snapshot {
  std::vector<std::uint64_t> vm_rx;
  std::uint64_t sent = 0;
  json vmq;
};

Result<Snapshot> snapshot_of(RebalanceLab& lab) {
  Snapshot s;
  for (const auto& vm : lab.vms) {
    auto eth0 = vm.stats->read("eth0");
    if (!eth0) return std::unexpected(eth0.error());
    s.vm_rx.push_back(eth0->rx_packets);
  }
  s.sent = lab.generator->frames_sent();
  auto stats = lab.vmqd->ctl({"stats"});
  if (!stats) return std::unexpected(stats.error());
  s.vmq = vmq_counters(*stats);
  return s;
}

// With traffic flowing: waits until the placement has settled. Rebalancer
// off: kStableSeconds of the same traffic (nothing moves). On: until the
// rebalancer has moved a queue and no queue has moved for kStableSeconds, at
// most kSettleLimitSeconds.
Result<json> settle(RebalanceLab& lab, bool rebalancing, std::uint64_t moves_before) {
  const auto start = Clock::now();
  auto placement = placement_of(lab);
  if (!placement) return std::unexpected(placement.error());
  auto last = cpus_of(*placement);
  auto last_change = Clock::now();
  std::uint64_t moves = 0;
  bool settled = false;
  while (seconds_since(start) < kSettleLimitSeconds) {
    if (auto ok = pause_for(kPollSeconds); !ok) return std::unexpected(ok.error());
    auto now_placement = placement_of(lab);
    if (!now_placement) return std::unexpected(now_placement.error());
    auto load = load_of(lab);
    if (!load) return std::unexpected(load.error());
    moves = load->moves - moves_before;
    if (auto cpus = cpus_of(*now_placement); cpus != last) {
      last = std::move(cpus);
      last_change = Clock::now();
    }
    const bool quiet = seconds_since(last_change) >= kStableSeconds;
    if (!rebalancing && seconds_since(start) >= kStableSeconds) {
      settled = true;
      break;
    }
    if (rebalancing && moves > 0 && quiet) {
      settled = true;
      break;
    }
  }
  return json{{"settled", settled}, {"settle_seconds", seconds_since(start)}, {"moves_before_window", moves}};
}

// One path: queues added on the generator's CPU, the rebalancer set, traffic,
// the settling wait, the warm-up, the window.
Result<json> measure_with_traffic(RebalanceLab& lab, const Options& options, bool rebalancing) {
  auto before = load_of(lab);
  if (!before) return std::unexpected(before.error());
  if (auto ok = lab.generator->start(); !ok) return std::unexpected(ok.error());
  Snapshot start, end;
  json settled, placement;
  Load load_start, load_end;
  double seconds = 0;
  auto measured = [&]() -> Result<void> {
    auto s = settle(lab, rebalancing, before->moves);
    if (!s) return std::unexpected(s.error());
    settled = std::move(*s);
    if (auto ok = pause_for(options.warmup_seconds); !ok) return ok;
    auto l0 = load_of(lab);
    if (!l0) return std::unexpected(l0.error());
    load_start = std::move(*l0);
    const auto t0 = Clock::now();
    auto s0 = snapshot_of(lab);
    if (!s0) return std::unexpected(s0.error());
    start = std::move(*s0);
    if (auto ok = pause_for(options.window_seconds); !ok) return ok;
    seconds = seconds_since(t0);
    auto s1 = snapshot_of(lab);
    if (!s1) return std::unexpected(s1.error());
    end = std::move(*s1);
    auto l1 = load_of(lab);
    if (!l1) return std::unexpected(l1.error());
    load_end = std::move(*l1);
    auto p = placement_of(lab);
    if (!p) return std::unexpected(p.error());
    placement = std::move(*p);
    return {};
  }();
  auto stopped = lab.generator->stop();
  if (!measured) return std::unexpected(measured.error());
  if (!stopped) return std::unexpected(stopped.error());
  std::uint64_t delivered = 0;
  json per_vm = json::object();
  for (std::size_t i = 0; i < end.vm_rx.size(); ++i) {
    delivered += end.vm_rx[i] - start.vm_rx[i];
    per_vm[lab.vms[i].name] = end.vm_rx[i] - start.vm_rx[i];
  }
  if (delivered == 0) return fail(Errc::system, "no frame reached the VMs in the window");
  json queues_on = json::object();
  for (const auto& [vm, cpu] : cpus_of(placement)) queues_on[vm] = cpu;
  json figures = {{"mpps", per_second_millions(delivered, seconds)},
                  {"offered_mpps", per_second_millions(end.sent - start.sent, seconds)},
                  {"seconds", seconds},
                  {"delivered", delivered},
                  {"delivered_per_vm", per_vm},
                  {"cpu_of", queues_on},
                  {"queues", placement},
                  {"moves", load_end.moves - before->moves},
                  {"moves_in_window", load_end.moves - load_start.moves},
                  {"cpus_at_window_start", load_start.cpus},
                  {"cpus_at_window_end", load_end.cpus},
                  {"vmq", counter_difference(end.vmq, start.vmq)}};
  figures.update(settled);
  return figures;
}

// Rebalancer on or off for one path; queues deleted and the rebalancer off
// again afterwards, also when the measurement fails.
Result<json> measure_path(RebalanceLab& lab, const Options& options, bool rebalancing) {
  auto figures = [&]() -> Result<json> {
    if (rebalancing)
      if (auto ok = set_rebalancer(lab, true); !ok) return std::unexpected(ok.error());
    if (auto ok = add_queues(lab, options); !ok) return std::unexpected(ok.error());
    return measure_with_traffic(lab, options, rebalancing);
  }();
  // Off first, so that no move begins while the queues go.
  auto restored = rebalancing ? set_rebalancer(lab, false) : Result<void>{};
  auto deleted = delete_queues(lab);
  if (!figures) return figures;
  if (!deleted) return std::unexpected(deleted.error());
  if (!restored) return std::unexpected(restored.error());
  return figures;
}

std::string busy_text(const json& cpus) {
  std::string out;
  for (const auto& c : cpus) {
    if (!out.empty()) out += ", ";
    const auto& busy = c.at("busy_share");
    out += busy.is_null() ? fmt::format("CPU {} -", c.at("cpu").get<unsigned>())
                          : fmt::format("CPU {} {:.0f}%", c.at("cpu").get<unsigned>(), 100 * busy.get<double>());
  }
  return out;
}

void print_round(unsigned r, const std::string& path, const json& figures) {
  std::string where;
  for (const auto& [vm, cpu] : figures.at("cpu_of").items()) where += fmt::format(" {}:{}", vm, cpu.get<unsigned>());
  std::cerr << fmt::format("rebalance round {}: {:<3} {:.3f} Mpps into the VMs (offered {:.3f}); {} moves, "
                           "settled {} after {:.1f} s; CPU of each queue:{}; {}\n",
                           r + 1, path, figures.at("mpps").get<double>(), figures.at("offered_mpps").get<double>(),
                           figures.at("moves").get<std::uint64_t>(), figures.at("settled").get<bool>() ? "yes" : "NO",
                           figures.at("settle_seconds").get<double>(), where,
                           busy_text(figures.at("cpus_at_window_end")));
}

}  // namespace

Result<json> run_rebalance_case(const Options& options) {
  auto lab = set_up(options);
  if (!lab) return std::unexpected(lab.error());
  auto rounds = alternating_rounds("rebalance", options.rounds, "off", "on",
                                   [&](const std::string& path, unsigned r) -> Result<json> {
                                     auto figures = measure_path(*lab, options, path == "on");
                                     if (figures) print_round(r, path, *figures);
                                     return figures;
                                   });
  if (!rounds) return std::unexpected(rounds.error());
  auto stopped = lab->vmqd->stop();
  if (!stopped) return std::unexpected(stopped.error());
  json flows = json::array();
  for (unsigned vm : kSkew) flows.push_back(fmt::format("vm{}", vm));
  return json{
      {"cases",
       {{"off", {{"label", fmt::format("rebalancer off: {} queues stay on CPU {} (auto)", options.vms,
                                       options.generator_cpu)}}},
        {"on", {{"label", "rebalancer on: the queues it moved stay where it put them"}}}}},
      {"flows", flows},
      {"queues", options.vms},
      {"generator_cpu", options.generator_cpu},
      {"rebalance", rebalance_settings(true)},
      {"settle_limit_seconds", kSettleLimitSeconds},
      {"stable_seconds", kStableSeconds},
      {"rounds", std::move(*rounds)}};
}

}  // namespace vmq::bench
