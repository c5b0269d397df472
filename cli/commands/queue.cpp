// queue add|list|show|set|pause|resume|del
#include <fmt/format.h>

#include "args.h"
#include "commands/command.h"
#include "format.h"
#include "table.h"

namespace vmq::cli {
namespace {

struct QueueAddArgs {
  std::string name, uplink, port, mac;
  std::optional<std::string> vlan, cpu, frames, vlan_mode, vm;
  bool untagged = false;
};

struct QueueSetArgs {
  std::string queue;
  std::optional<std::string> cpu, name, vm;
};

// A failure vmqctl found itself, before calling the agent.
std::unexpected<Failure> bad_argument(const Error& error) { return std::unexpected(invalid_argument(error)); }

Result<json> queue_add_params(const QueueAddArgs& a) {
  auto match = parse_filter(a.mac, a.vlan, a.untagged);
  if (!match) return std::unexpected(match.error());
  json params{{"name", a.name}, {"uplink", a.uplink}, {"port", a.port}, {"filters", {filter_params(*match)}}};
  if (a.vm) params["vm"] = *a.vm;
  if (a.cpu) {
    auto cpu = parse_number("--cpu", *a.cpu, 4095);
    if (!cpu) return std::unexpected(cpu.error());
    params["cpu"] = *cpu;
  }
  if (a.frames) {
    auto frames = parse_number("--frames", *a.frames, UINT32_MAX);
    if (!frames) return std::unexpected(frames.error());
    params["frames"] = *frames;
  }
  if (a.vlan_mode) {
    auto mode = parse_vlan_mode_option(*a.vlan_mode);
    if (!mode) return std::unexpected(mode.error());
    params["vlan_mode"] = to_string(*mode);
  }
  return params;
}

Result<json> queue_set_params(const QueueSetArgs& a) {
  json params{{"queue", a.queue}};
  if (!a.cpu && !a.name && !a.vm) return fail(Errc::invalid_argument, "nothing to change: give --cpu, --name or --vm");
  if (a.cpu) {
    auto cpu = parse_number("--cpu", *a.cpu, 4095);
    if (!cpu) return std::unexpected(cpu.error());
    params["cpu"] = *cpu;
  }
  if (a.name) params["name"] = *a.name;
  if (a.vm) params["vm"] = *a.vm;
  return params;
}

std::string filters_table(const json& filters, std::size_t indent) {
  Table table({{"ID", Align::right}, {"MAC"}, {"VLAN", Align::right}, {"HITS", Align::right}}, indent);
  for (const auto& f : filters)
    table.add_row({text(member(f, {"id"})), text(member(f, {"mac"})), vlan_text(member(f, {"vlan"})),
                   text(member(f, {"hits"}))});
  return table.render();
}

std::string counters_table(const json& c, std::size_t indent) {
  Table table({{"COUNTER"}, {"VALUE", Align::right}, {"BYTES", Align::right}}, indent);
  auto traffic = [&](const char* label, const char* key) {
    table.add_row({label, text(member(c, {key, "packets"})), text(member(c, {key, "bytes"}))});
  };
  auto single = [&](const char* label, std::initializer_list<std::string_view> path) {
    table.add_row({label, text(member(c, path))});
  };
  traffic("classified", "classified");
  single("received", {"received"});
  traffic("delivered", "delivered");
  single("checksum completed", {"checksum_completed"});
  single("dropped port_full", {"dropped", "port_full"});
  single("dropped quota", {"dropped", "quota"});
  single("dropped port_refused", {"dropped", "port_refused"});
  single("port errors", {"port_errors"});
  single("in flight", {"in_flight"});
  for (const char* xsk : {"rx_dropped", "rx_ring_full", "rx_fill_ring_empty", "rx_invalid_descs", "tx_invalid_descs"})
    single(fmt::format("xsk {}", xsk).c_str(), {"xsk", xsk});
  return table.render();
}

std::string queue_detail_text(const json& q) {
  const json& worker = member(q, {"worker"});
  const std::string worker_text =
      count(member(worker, {"tid"})) == 0
          ? fmt::format("none (CPU {})", text(member(worker, {"cpu"})))
          : fmt::format("tid {} on CPU {}", text(member(worker, {"tid"})), text(member(worker, {"cpu"})));
  const Fields fields{
      {"queue", queue_label(q)},
      {"vm", text(member(q, {"vm"}))},
      {"uplink", text(member(q, {"uplink"}))},
      {"port", text(member(q, {"port"}))},
      {"state", text(member(q, {"state"}))},
      {"ndis state", text(member(q, {"ndis_state"}))},
      {"paused by operator", text(member(q, {"paused_by_operator"}))},
      {"last error", text(member(q, {"last_error"}))},
      {"cpu", text(member(q, {"cpu"}))},
      {"frames", text(member(q, {"frames"}))},
      {"vlan mode", text(member(q, {"vlan_mode"}))},
      {"worker", worker_text},
  };
  const json& counters_error = member(q, {"counters_error"});
  return render_fields(fields) + "\nfilters:\n" + filters_table(member(q, {"filters"}), 2) + "\ncounters:\n" +
         (counters_error.is_string() ? "  unavailable: " + counters_error.get<std::string>() + "\n"
                                     : counters_table(member(q, {"counters"}), 2));
}

std::string queue_list_text(const json& result) {
  Table table({{"ID", Align::right},
               {"NAME"},
               {"VM"},
               {"UPLINK"},
               {"PORT"},
               {"STATE"},
               {"CPU", Align::right},
               {"FILTERS", Align::right},
               {"RX", Align::right},
               {"DELIVERED", Align::right},
               {"DROPPED", Align::right}});
  for (const auto& q : member(result, {"queues"})) {
    const json& c = member(q, {"counters"});
    table.add_row({text(member(q, {"id"})), text(member(q, {"name"})), text(member(q, {"vm"})),
                   text(member(q, {"uplink"})), text(member(q, {"port"})), text(member(q, {"state"})),
                   text(member(q, {"cpu"})), std::to_string(member(q, {"filters"}).size()),
                   text(member(c, {"classified", "packets"})), text(member(c, {"delivered", "packets"})),
                   std::to_string(dropped_total(c))});
  }
  return table.render();
}

std::string first_filter_text(const json& q) {
  const json& filters = member(q, {"filters"});
  if (!filters.is_array() || filters.empty()) return "no filter";
  const json& f = filters[0];
  return fmt::format("filter {} (MAC {} {})", text(member(f, {"id"})), text(member(f, {"mac"})),
                     member(f, {"vlan"}).is_null() ? "untagged" : "VLAN " + text(member(f, {"vlan"})));
}

Outcome call_and_present(Session& session, const std::string& method, const json& params,
                         const std::function<std::string(const json&)>& for_people) {
  auto result = session.call(method, params);
  if (!result) return std::unexpected(result.error());
  session.present(*result, for_people);
  return {};
}

Outcome add_queue(Session& session, const QueueAddArgs& args) {
  auto params = queue_add_params(args);
  if (!params) return bad_argument(params.error());
  return call_and_present(session, "queue.add", *params, [](const json& q) {
    return fmt::format("queue {} added: {} on CPU {}, {}\n", queue_label(q), text(member(q, {"state"})),
                       text(member(q, {"cpu"})), first_filter_text(q));
  });
}

Outcome set_queue(Session& session, const QueueSetArgs& args) {
  auto params = queue_set_params(args);
  if (!params) return bad_argument(params.error());
  return call_and_present(session, "queue.set", *params, [](const json& q) {
    return fmt::format("queue {} updated: CPU {}, VM {}, state {}\n", queue_label(q), text(member(q, {"cpu"})),
                       text(member(q, {"vm"})).empty() ? "-" : text(member(q, {"vm"})), text(member(q, {"state"})));
  });
}

Outcome change_state(Session& session, const std::string& method, const std::string& queue) {
  return call_and_present(session, method, {{"queue", queue}}, [](const json& q) {
    return fmt::format("queue {} is {}\n", queue_label(q), text(member(q, {"state"})));
  });
}

Outcome delete_queue(Session& session, const std::string& queue) {
  return call_and_present(session, "queue.del", {{"queue", queue}}, [](const json& r) {
    return fmt::format("queue {} deleted: {} frame(s) drained in {}\n", queue_label(r),
                       count(member(r, {"drained_frames"})), duration_text(count(member(r, {"drain_us"}))));
  });
}

// NAME|ID, the positional every command but add and list takes.
CLI::Option* add_queue_argument(CLI::App* command, std::string& queue) {
  return command->add_option("QUEUE", queue, "Queue name or id (NAME|ID)")->type_name("")->required();
}

void add_queue_add(CLI::App& group, Runner& runner) {
  auto a = std::make_shared<QueueAddArgs>();
  auto* cmd = group.add_subcommand("add", "Create a queue that delivers one VM's frames to its port");
  cmd->add_option("NAME", a->name, "Queue name (letters, digits, _ . : -)")->type_name("")->required();
  cmd->add_option("--uplink", a->uplink, "Uplink the VM's frames arrive on")->type_name("IF")->required();
  cmd->add_option("--port", a->port, "The VM's port (tap) to deliver to")->type_name("IF")->required();
  cmd->add_option("--mac", a->mac, "The VM's MAC address (the queue's first filter)")->type_name("MAC")->required();
  cmd->add_option("--vlan", a->vlan, "VLAN id 1..4094 the filter matches")->type_name("N");
  cmd->add_flag("--untagged", a->untagged, "Match untagged and priority-tagged frames (the default)");
  cmd->add_option("--cpu", a->cpu, "CPU of the queue's worker (default: vmqd picks one)")->type_name("N");
  cmd->add_option("--frames", a->frames, "Ring size and in-flight quota, rounded up to a power of two (see caps)")
      ->type_name("N");
  cmd->add_option("--vlan-mode", a->vlan_mode, "access: remove the VLAN tag; trunk: keep it (default)")
      ->type_name("access|trunk");
  cmd->add_option("--vm", a->vm, "Name of the VM (libvirt domain), for people")->type_name("VMNAME");
  runner.on(cmd, [a](Session& s) { return add_queue(s, *a); });
}

void add_queue_set(CLI::App& group, Runner& runner) {
  auto a = std::make_shared<QueueSetArgs>();
  auto* cmd = group.add_subcommand("set", "Move a queue's worker, rename it or set its VM");
  add_queue_argument(cmd, a->queue);
  cmd->add_option("--cpu", a->cpu, "Move the worker to this CPU")->type_name("N");
  cmd->add_option("--name", a->name, "New queue name")->type_name("NEW");
  cmd->add_option("--vm", a->vm, "VM name (\"\" for none)")->type_name("VMNAME");
  runner.on(cmd, [a](Session& s) { return set_queue(s, *a); });
}

void add_single_queue_command(CLI::App& group, Runner& runner, const char* name, const char* help,
                              std::function<Outcome(Session&, const std::string&)> action) {
  auto queue = std::make_shared<std::string>();
  auto* cmd = group.add_subcommand(name, help);
  add_queue_argument(cmd, *queue);
  runner.on(cmd, [queue, action = std::move(action)](Session& s) { return action(s, *queue); });
}

}  // namespace

void add_queue_commands(CLI::App& app, Runner& runner) {
  auto* group = app.add_subcommand("queue", "Create, list, show, change and delete VM queues");
  group->require_subcommand(1);
  add_queue_add(*group, runner);
  runner.on(group->add_subcommand("list", "One line per queue"), [](Session& s) {
    return call_and_present(s, "queue.list", json::object(), queue_list_text);
  });
  add_single_queue_command(*group, runner, "show", "Everything about one queue: settings, filters, counters",
                           [](Session& s, const std::string& q) {
                             return call_and_present(s, "queue.show", {{"queue", q}}, queue_detail_text);
                           });
  add_queue_set(*group, runner);
  add_single_queue_command(*group, runner, "pause", "Stop delivering; frames go to the default queue meanwhile",
                           [](Session& s, const std::string& q) { return change_state(s, "queue.pause", q); });
  add_single_queue_command(*group, runner, "resume", "Deliver again after a pause",
                           [](Session& s, const std::string& q) { return change_state(s, "queue.resume", q); });
  add_single_queue_command(*group, runner, "del", "Drain and delete a queue and its filters", delete_queue);
}

}  // namespace vmq::cli
