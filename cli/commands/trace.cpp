// trace: where the loaded classifier would send a described frame, and why.
#include <tuple>

#include <fmt/format.h>

#include "args.h"
#include "commands/command.h"
#include "format.h"
#include "table.h"

namespace vmq::cli {
namespace {

struct TraceArgs {
  std::string uplink, dst;
  std::optional<std::string> src, vlan, vlan2, rx_queue;
};

Result<json> trace_params(const TraceArgs& a) {
  json params{{"uplink", a.uplink}};
  auto dst = parse_mac("--dst", a.dst);
  if (!dst) return std::unexpected(dst.error());
  params["dst"] = dst->to_string();
  if (a.src) {
    auto src = parse_mac("--src", *a.src);
    if (!src) return std::unexpected(src.error());
    params["src"] = src->to_string();
  }
  if (a.vlan2 && !a.vlan)
    return fail(Errc::invalid_argument, "--vlan2: an inner tag needs an outer one: give --vlan too");
  for (auto [option, value, key] : {std::tuple{"--vlan", &a.vlan, "vlan"}, std::tuple{"--vlan2", &a.vlan2, "vlan2"}}) {
    if (!*value) continue;
    auto vlan = parse_frame_vlan(option, **value);
    if (!vlan) return std::unexpected(vlan.error());
    params[key] = *vlan;
  }
  if (a.rx_queue) {
    auto rxq = parse_number("--rx-queue", *a.rx_queue, 1023);
    if (!rxq) return std::unexpected(rxq.error());
    params["rx_queue"] = *rxq;
  }
  return params;
}

std::string frame_text(const json& frame) {
  std::string tags;
  const json& vlan = member(frame, {"vlan"});
  if (vlan == 0) tags += ", priority tag (VLAN 0)";
  else if (!vlan.is_null()) tags += ", VLAN " + text(vlan);
  if (!member(frame, {"vlan2"}).is_null()) tags += ", inner VLAN " + text(member(frame, {"vlan2"}));
  if (tags.empty()) tags = ", untagged";
  return fmt::format("dst {}{}, {} bytes", text(member(frame, {"dst"})), tags, text(member(frame, {"length"})));
}

std::string trace_text(const json& t) {
  const bool to_queue = member(t, {"destination"}) == "queue";
  Fields fields{
      {"uplink", fmt::format("{}, rx queue {}", text(member(t, {"uplink"})), text(member(t, {"rx_queue"})))},
      {"frame", frame_text(member(t, {"frame"}))},
      {"destination", to_queue ? "queue " + queue_label(member(t, {"queue"})) : "default queue"},
  };
  if (!to_queue) {
    fields.emplace_back("reason", text(member(t, {"reason"})));
    if (member(t, {"queue"}).is_object()) fields.emplace_back("queue", queue_label(member(t, {"queue"})));
  }
  fields.emplace_back("filter", text(member(t, {"filter", "id"})));
  if (to_queue) {
    fields.emplace_back("VLAN tag", member(t, {"tag_removed"}) == true ? "removed (access mode)" : "kept");
    fields.emplace_back("output", text(member(t, {"output_length"})) + " bytes");
  }
  return text(member(t, {"explanation"})) + "\n\n" + render_fields(fields, 2);
}

Outcome trace_frame(Session& session, const TraceArgs& args) {
  auto params = trace_params(args);
  if (!params) return std::unexpected(invalid_argument(params.error()));
  auto result = session.call("trace", *params);
  if (!result) return std::unexpected(result.error());
  session.present(*result, trace_text);
  return {};
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
