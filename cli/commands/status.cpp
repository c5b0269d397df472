// status, caps, version: what the agent is and what it can do.
#include <fmt/format.h>

#include <cstdio>

#include "commands/command.h"
#include "status_text.h"

namespace vmq::cli {
namespace {

Outcome show_caps(Session& session, const std::string& uplink) {
  api::CapsParams params;
  if (!uplink.empty()) params.uplink = uplink;
  return session.run<api::Caps>(params, caps_text);
}

// vmqctl's own version always; the agent's when it answers. Not reaching the
// agent is no failure here: the question was about versions.
Outcome show_version(Session& session) {
  auto agent = session.call<api::Status>({});
  if (session.json_mode()) {
    json versions{{"vmqctl", VMQ_VERSION}, {"vmqd", nullptr}};
    if (agent) versions["vmqd"] = {{"version", agent->reply.version}, {"protocol", agent->reply.protocol}};
    print_json(versions);
    return {};
  }
  std::string out = fmt::format("vmqctl {} (protocol {})\n", VMQ_VERSION, api::kProtocolVersion);
  if (agent)
    out += fmt::format("vmqd   {} (protocol {})\n", agent->reply.version, agent->reply.protocol);
  else
    out += fmt::format("vmqd   unknown: {}\n", agent.error().message);
  std::fputs(out.c_str(), stdout);
  return {};
}

}  // namespace

void add_status_commands(CLI::App& app, Runner& runner) {
  runner.on(app.add_subcommand("status", "Agent version, uptime, uplinks (XDP attach mode and method, MTU, classifier build), counts"),
            [](Session& s) { return s.run<api::Status>({}, status_text); });

  auto uplink = std::make_shared<std::string>();
  auto* caps = app.add_subcommand("caps", "Capabilities: limits, filter tests, VLAN modes, per-uplink rx queues");
  caps->add_option("UPLINK", *uplink, "Only this uplink")->type_name("");
  runner.on(caps, [uplink](Session& s) { return show_caps(s, *uplink); });

  runner.on(app.add_subcommand("version", "vmqctl's version and, if it answers, vmqd's"), show_version);
}

}  // namespace vmq::cli
