#include "memory_case.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "os/uplink_umem.h"
#include "vmqd.h"
#include "window.h"

namespace vmq::bench {
namespace {

// The kB fields of /proc/PID/status that make up VmRSS, and the peak.
Result<nlohmann::json> resident_memory(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  if (!in) return fail(Errc::not_found, fmt::format("no /proc/{}/status: vmqd is gone", pid));
  nlohmann::json kib = nlohmann::json::object();
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    std::uint64_t value = 0;
    if (!(fields >> key >> value)) continue;
    key.pop_back();  // the colon
    if (key == "VmRSS" || key == "RssAnon" || key == "RssFile" || key == "RssShmem" || key == "VmHWM" ||
        key == "Threads")
      kib[key] = value;
  }
  return kib;
}

std::string mac_of_queue(unsigned n) {
  return fmt::format("52:54:01:00:{:02x}:{:02x}", (n >> 8) & 0xff, n & 0xff);
}

Result<void> add_queue(Vmqd& vmqd, const Options& options, unsigned n) {
  auto ok = vmqd.ctl({"queue", "add", fmt::format("mem{}", n), "--uplink", options.memory_uplink, "--port",
                      fmt::format("{}{}", options.memory_port_prefix, n), "--mac", mac_of_queue(n), "--untagged"});
  if (!ok) return std::unexpected(ok.error());
  return {};
}

Result<nlohmann::json> measure_one_instance(const Options& options, unsigned instance) {
  const unsigned most = options.memory_queues.back();
  auto vmqd = Vmqd::start({options.vmqd, options.vmqctl, options.memory_netns, options.memory_uplink,
                           fmt::format("{}/memory{}", options.workdir, instance), std::max(most, 2u),
                           options.umem_frames});
  if (!vmqd) return std::unexpected(vmqd.error());
  auto status = (*vmqd)->ctl({"status"});
  if (!status) return std::unexpected(status.error());
  const unsigned rx_queues = status->at("uplinks").at(0).at("rx_queues").get<unsigned>();
  nlohmann::json points = nlohmann::json::array();
  auto sample = [&](unsigned queues) -> Result<void> {
    auto kib = resident_memory((*vmqd)->pid());
    if (!kib) return std::unexpected(kib.error());
    points.push_back({{"queues", queues}, {"kib", *kib}});
    std::cerr << fmt::format("memory {}: {} queues, VmRSS {} kB\n", instance + 1, queues, (*kib)["VmRSS"].get<std::uint64_t>());
    return {};
  };
  if (auto ok = sample(0); !ok) return std::unexpected(ok.error());
  unsigned added = 0;
  for (unsigned target : options.memory_queues) {
    for (; added < target; ++added) {
      if (interrupted()) return fail(Errc::invalid_state, "interrupted");
      if (auto ok = add_queue(**vmqd, options, added + 1); !ok) return std::unexpected(ok.error());
    }
    if (auto ok = sample(target); !ok) return std::unexpected(ok.error());
  }
  if (auto ok = (*vmqd)->stop(); !ok) return std::unexpected(ok.error());
  return nlohmann::json{{"uplink_rx_queues", rx_queues}, {"points", points}};
}

}  // namespace

Result<nlohmann::json> run_memory_case(const Options& options) {
  nlohmann::json instances = nlohmann::json::array();
  for (unsigned i = 0; i < options.memory_rounds; ++i) {
    auto points = measure_one_instance(options, i);
    if (!points) return fail(points.error().code, fmt::format("memory case: {}", points.error().message));
    instances.push_back(std::move(*points));
  }
  const std::uint64_t rx_queues = instances.at(0).at("uplink_rx_queues").get<std::uint64_t>();
  const std::uint64_t umem_bytes = rx_queues * options.umem_frames * os::kFrameSize;
  return nlohmann::json{{"umem_frames", options.umem_frames},
                        {"uplink_rx_queues", rx_queues},
                        {"umem_kib", umem_bytes / 1024},
                        {"queue_frames", 512},
                        {"rounds", instances}};
}

}  // namespace vmq::bench
