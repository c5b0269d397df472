#include "lab_vms.h"

#include <fmt/format.h>

namespace vmq::bench {

Result<std::vector<VmEnd>> open_lab_vms(const std::string& lab, const std::vector<Flow>& flows) {
  std::vector<VmEnd> vms;
  for (unsigned n = 1; n <= flows.size(); ++n) {
    auto stats = LinkStatsReader::open(fmt::format("{}-vm{}", lab, n));
    if (!stats) return std::unexpected(stats.error());
    vms.push_back({fmt::format("vm{}", n), fmt::format("vm{}port", n), flows[n - 1],
                   std::make_unique<LinkStatsReader>(std::move(*stats))});
  }
  return vms;
}

std::string queue_name(const VmEnd& vm) { return "bench-" + vm.name; }

Result<void> add_vm_queue(Vmqd& vmqd, const VmEnd& vm, unsigned cpu) {
  return add_vm_queue(vmqd, vm, {"--cpu", std::to_string(cpu)});
}

Result<void> add_vm_queue(Vmqd& vmqd, const VmEnd& vm, const std::vector<std::string>& placement) {
  std::vector<std::string> args{"queue", "add", queue_name(vm), "--uplink", kLabUplink, "--port", vm.port, "--mac",
                                vm.flow.mac.to_string(), "--vlan", std::to_string(vm.flow.vlan), "--vm", vm.name};
  args.insert(args.end(), placement.begin(), placement.end());
  auto ok = vmqd.ctl(args);
  if (!ok) return std::unexpected(ok.error());
  return {};
}

}  // namespace vmq::bench
