#include "subqueues_case.h"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "alternating_rounds.h"
#include "frames.h"
#include "generator.h"
#include "lab_vms.h"
#include "vmqd.h"
#include "window.h"

namespace vmq::bench {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr unsigned kSourcePorts = 16;  // the VM's IP flows
constexpr double kStatusRoundSeconds = 1.2;  // vmqd's CPU figures cover its last 1 s round

struct SubQueueLab {
  std::vector<VmEnd> vms;  // vm1 only
  std::unique_ptr<Generator> generator;
  std::unique_ptr<Vmqd> vmqd;
};

Result<SubQueueLab> set_up(const Options& options) {
  SubQueueLab lab;
  const auto flows = make_flows(kFirstVmMac, kFirstVlan, 1);
  auto vms = open_lab_vms(options.lab, flows);
  if (!vms) return std::unexpected(vms.error());
  lab.vms = std::move(*vms);
  GeneratorConfig generator_config{options.lab + "-wire", "wire0", options.generator_cpu, flows, kWireMac};
  generator_config.source_ports = kSourcePorts;
  auto generator = Generator::load(generator_config);
  if (!generator) return std::unexpected(generator.error());
  lab.generator = std::move(*generator);
  const std::string workdir = options.workdir + "/subqueues";
  std::error_code ec;
  std::filesystem::create_directories(workdir, ec);
  if (ec) return fail(Errc::system, fmt::format("creating {}: {}", workdir, ec.message()));
  auto vmqd = Vmqd::start({options.vmqd, options.vmqctl, options.lab + "-host1", kLabUplink, workdir, 64,
                           options.umem_frames});
  if (!vmqd) return std::unexpected(vmqd.error());
  lab.vmqd = std::move(*vmqd);
  return lab;
}

// `vmqctl queue add` placement options of each path.
std::vector<std::string> placement_of(const std::string& path, const Options& options) {
  if (path == "one") return {"--cpu", std::to_string(options.consumer_cpu)};
  return {"--cpus", fmt::format("{},{}", options.generator_cpu, options.consumer_cpu)};
}

struct Snapshot {
  std::uint64_t vm_rx = 0;
  std::uint64_t sent = 0;
  json queue;  // queue show
};

Result<Snapshot> snapshot_of(SubQueueLab& lab) {
  Snapshot s;
  auto eth0 = lab.vms.front().stats->read("eth0");
  if (!eth0) return std::unexpected(eth0.error());
  s.vm_rx = eth0->rx_packets;
  s.sent = lab.generator->frames_sent();
  auto queue = lab.vmqd->ctl({"queue", "show", queue_name(lab.vms.front())});
  if (!queue) return std::unexpected(queue.error());
  s.queue = std::move(*queue);
  return s;
}

// What each sub-queue took from its rings in the window.
json sub_queue_shares(const json& start, const json& end) {
  json out = json::array();
  const json& before = start.at("sub_queues");
  const json& after = end.at("sub_queues");
  for (std::size_t i = 0; i < after.size() && i < before.size(); ++i)
    out.push_back({{"cpu", after[i].at("cpu")},
                   {"received", after[i].at("counters").at("received").get<std::uint64_t>() -
                                    before[i].at("counters").at("received").get<std::uint64_t>()},
                   {"dropped", after[i].at("counters").at("dropped").get<std::uint64_t>() -
                                   before[i].at("counters").at("dropped").get<std::uint64_t>()}});
  return out;
}

Result<json> measure_path(SubQueueLab& lab, const Options& options, const std::string& path) {
  const VmEnd& vm = lab.vms.front();
  if (auto added = add_vm_queue(*lab.vmqd, vm, placement_of(path, options)); !added)
    return std::unexpected(added.error());
  Snapshot start, end;
  json cpus;
  double seconds = 0;
  auto measured = [&]() -> Result<void> {
    if (auto ok = lab.generator->start(); !ok) return ok;
    if (auto ok = pause_for(std::max(options.warmup_seconds, kStatusRoundSeconds)); !ok) return ok;
    const auto t0 = Clock::now();
    auto s0 = snapshot_of(lab);
    if (!s0) return std::unexpected(s0.error());
    start = std::move(*s0);
    if (auto ok = pause_for(options.window_seconds); !ok) return ok;
    seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    auto s1 = snapshot_of(lab);
    if (!s1) return std::unexpected(s1.error());
    end = std::move(*s1);
    auto status = lab.vmqd->ctl({"status"});
    if (!status) return std::unexpected(status.error());
    cpus = status->at("cpus");
    return {};
  }();
  auto stopped = lab.generator->stop();
  auto deleted = lab.vmqd->ctl({"queue", "del", queue_name(vm)});
  if (!measured) return std::unexpected(measured.error());
  if (!stopped) return std::unexpected(stopped.error());
  if (!deleted) return std::unexpected(deleted.error());
  const std::uint64_t delivered = end.vm_rx - start.vm_rx;
  if (delivered == 0) return fail(Errc::system, "no frame reached the VM in the window");
  return json{{"mpps", per_second_millions(delivered, seconds)},
              {"offered_mpps", per_second_millions(end.sent - start.sent, seconds)},
              {"seconds", seconds},
              {"delivered", delivered},
              {"sub_queues", sub_queue_shares(start.queue, end.queue)},
              {"cpus_at_window_end", cpus}};
}

void print_round(unsigned r, const std::string& path, const json& figures) {
  std::string shares;
  for (const auto& s : figures.at("sub_queues"))
    shares += fmt::format(" CPU {}: {}", s.at("cpu").get<unsigned>(), s.at("received").get<std::uint64_t>());
  std::cerr << fmt::format("subqueues round {}: {:<3} {:.3f} Mpps into the VM (offered {:.3f}); received by{}\n",
                           r + 1, path, figures.at("mpps").get<double>(), figures.at("offered_mpps").get<double>(),
                           shares);
}

}  // namespace

Result<json> run_subqueues_case(const Options& options) {
  auto lab = set_up(options);
  if (!lab) return std::unexpected(lab.error());
  auto rounds = alternating_rounds("subqueues", options.rounds, "one", "two",
                                   [&](const std::string& path, unsigned r) -> Result<json> {
                                     auto figures = measure_path(*lab, options, path);
                                     if (figures) print_round(r, path, *figures);
                                     return figures;
                                   });
  if (!rounds) return std::unexpected(rounds.error());
  auto stopped = lab->vmqd->stop();
  if (!stopped) return std::unexpected(stopped.error());
  return json{{"cases",
               {{"one", {{"label", fmt::format("1 sub-queue on CPU {}", options.consumer_cpu)}}},
                {"two", {{"label", fmt::format("2 sub-queues on CPUs {},{}", options.generator_cpu,
                                               options.consumer_cpu)}}}}},
              {"source_ports", kSourcePorts},
              {"generator_cpu", options.generator_cpu},
              {"rounds", std::move(*rounds)}};
}

}  // namespace vmq::bench
