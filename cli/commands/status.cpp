// status, caps, version: what the agent is and what it can do.
#include <fmt/format.h>

#include "commands/command.h"
#include "format.h"
#include "table.h"

namespace vmq::cli {
namespace {

std::string uplinks_text(const json& uplinks) {
  Table table({{"UPLINK"},
               {"RX QUEUES", Align::right},
               {"XDP MODE"},
               {"ATTACH"},
               {"PROGRAM", Align::right},
               {"MAX FRAME", Align::right},
               {"MTU", Align::right},
               {"BUILD"},
               {"STATE"}});
  std::string warnings;
  for (const auto& u : uplinks) {
    const bool degraded = member(u, {"degraded"}) == true;
    table.add_row({text(member(u, {"name"})), text(member(u, {"rx_queues"})), text(member(u, {"attach_mode"})),
                   text(member(u, {"attach_method"})), text(member(u, {"program_id"})),
                   text(member(u, {"max_frame_len"})), text(member(u, {"mtu"})),
                   text(member(u, {"classifier_build"})), degraded ? "degraded" : "ok"});
    if (degraded)
      warnings += fmt::format("warning: uplink {} is degraded: {}\n", text(member(u, {"name"})),
                              text(member(u, {"degraded_reason"})));
  }
  return table.render() + warnings;
}

std::string status_text(const json& s) {
  std::string out = fmt::format("vmqd {} (protocol {}), pid {} on host {}, up {}\n", text(member(s, {"version"})),
                                text(member(s, {"protocol"})), text(member(s, {"pid"})), text(member(s, {"host_id"})),
                                uptime_text(static_cast<std::int64_t>(count(member(s, {"uptime_seconds"})))));
  out += fmt::format("queues: {} of {}, filters: {} of {}\n\n", count(member(s, {"queues"})),
                     count(member(s, {"max_queues"})), count(member(s, {"filters"})),
                     count(member(s, {"max_filters"})));
  return out + uplinks_text(member(s, {"uplinks"}));
}

std::string caps_text(const json& c) {
  const json& frames = member(c, {"frames"});
  const Fields fields{
      {"max queues", text(member(c, {"max_queues"}))},
      {"max filters", text(member(c, {"max_filters"}))},
      {"filter fields", list_text(member(c, {"filter_fields"}))},
      {"filter tests", list_text(member(c, {"filter_tests"}))},
      {"VLAN modes", list_text(member(c, {"vlan_modes"}))},
      {"queue frames", fmt::format("{}..{} (default {})", text(member(frames, {"min"})), text(member(frames, {"max"})),
                                   text(member(frames, {"default"})))},
      {"worker CPUs", cpu_list_text(member(c, {"cpus"}))},
  };
  return render_fields(fields) + "\n" + uplinks_text(member(c, {"uplinks"}));
}

Outcome show_status(Session& session) {
  auto result = session.call("status");
  if (!result) return std::unexpected(result.error());
  session.present(*result, status_text);
  return {};
}

Outcome show_caps(Session& session, const std::string& uplink) {
  json params = json::object();
  if (!uplink.empty()) params["uplink"] = uplink;
  auto result = session.call("caps", params);
  if (!result) return std::unexpected(result.error());
  session.present(*result, caps_text);
  return {};
}

// vmqctl's own version always; the agent's when it answers. Not reaching the
// agent is no failure here: the question was about versions.
Outcome show_version(Session& session) {
  auto agent = session.call("status");
  json versions{{"vmqctl", VMQ_VERSION}, {"vmqd", nullptr}};
  if (agent)
    versions["vmqd"] = {{"version", member(*agent, {"version"})}, {"protocol", member(*agent, {"protocol"})}};
  session.present(versions, [&](const json& v) {
    std::string out = fmt::format("vmqctl {} (protocol {})\n", VMQ_VERSION, api::kProtocolVersion);
    if (agent)
      out += fmt::format("vmqd   {} (protocol {})\n", text(member(v, {"vmqd", "version"})),
                         text(member(v, {"vmqd", "protocol"})));
    else
      out += fmt::format("vmqd   unknown: {}\n", agent.error().message);
    return out;
  });
  return {};
}

}  // namespace

void add_status_commands(CLI::App& app, Runner& runner) {
  runner.on(app.add_subcommand("status", "Agent version, uptime, uplinks (XDP attach mode and method, MTU, classifier build), counts"),
            show_status);

  auto uplink = std::make_shared<std::string>();
  auto* caps = app.add_subcommand("caps", "Capabilities: limits, filter tests, VLAN modes, per-uplink rx queues");
  caps->add_option("UPLINK", *uplink, "Only this uplink")->type_name("");
  runner.on(caps, [uplink](Session& s) { return show_caps(s, *uplink); });

  runner.on(app.add_subcommand("version", "vmqctl's version and, if it answers, vmqd's"), show_version);
}

}  // namespace vmq::cli
