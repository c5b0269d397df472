// trace: where the loaded classifier would send a described frame, and why.
#include <tuple>

#include <fmt/format.h>

#include "args.h"
#include "commands/command.h"
#include "trace_text.h"

namespace vmq::cli {
namespace {

struct TraceArgs {
  std::string uplink, dst;
  std::optional<std::string> src, vlan, vlan2, rx_queue;
};

Result<api::TraceParams> trace_params(const TraceArgs& a) {
  api::TraceParams params;
  params.uplink = a.uplink;
  auto dst = parse_mac("--dst", a.dst);
  if (!dst) return std::unexpected(dst.error());
  params.dst = *dst;
  if (a.src) {
    auto src = parse_mac("--src", *a.src);
    if (!src) return std::unexpected(src.error());
    params.src = *src;
  }
  if (a.vlan2 && !a.vlan)
    return fail(Errc::invalid_argument, "--vlan2: an inner tag needs an outer one: give --vlan too");
  for (auto [option, value, out] :
       {std::tuple{"--vlan", &a.vlan, &params.vlan}, std::tuple{"--vlan2", &a.vlan2, &params.vlan2}}) {
    if (!*value) continue;
    auto vlan = parse_frame_vlan(option, **value);
    if (!vlan) return std::unexpected(vlan.error());
    *out = *vlan;
  }
  if (a.rx_queue) {
    auto rxq = parse_number("--rx-queue", *a.rx_queue, api::kRxQueueMax);
    if (!rxq) return std::unexpected(rxq.error());
    params.rx_queue = static_cast<std::uint16_t>(*rxq);
  }
  return params;
}

Outcome trace_frame(Session& session, const TraceArgs& args) {
  auto params = trace_params(args);
  if (!params) return std::unexpected(invalid_argument(params.error()));
  return session.run<api::Trace>(*params, trace_text);
}

}  // namespace

void add_trace_command(CLI::App& app, Runner& runner) {
  auto a = std::make_shared<TraceArgs>();
  auto* cmd = app.add_subcommand("trace", "Run a described frame through the loaded classifier: where it goes, why");
  cmd->add_option("--uplink", a->uplink, "Uplink the frame arrives on")->type_name("IF")->required();
  cmd->add_option("--dst", a->dst, "Destination MAC address")->type_name("MAC")->required();
  cmd->add_option("--vlan", a->vlan, "Outer VLAN id (0 = priority tag; default untagged)")->type_name("N");
  cmd->add_option("--vlan2", a->vlan2, "Inner VLAN id: makes the frame QinQ (802.1ad outer tag)")->type_name("N");
  cmd->add_option("--src", a->src, "Source MAC address")->type_name("MAC");
  cmd->add_option("--rx-queue", a->rx_queue, "Device rx queue it arrives on (default 0)")->type_name("N");
  runner.on(cmd, [a](Session& s) { return trace_frame(s, *a); });
}

}  // namespace vmq::cli
