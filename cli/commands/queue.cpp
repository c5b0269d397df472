// queue add|list|show|set|pause|resume|del
#include <filesystem>

#include <fmt/format.h>

#include "args.h"
#include "commands/command.h"
#include "queue_text.h"

namespace vmq::cli {
namespace {

struct QueueAddArgs {
  std::string name, uplink, port, mac;
  std::optional<std::string> vlan, cpu, cpus, frames, vlan_mode, vm, vhost_user;
  bool untagged = false;
};

struct QueueSetArgs {
  std::string queue;
  std::optional<std::string> cpu, name, vm;
};

// A failure vmqctl found itself, before calling the agent.
std::unexpected<Failure> bad_argument(const Error& error) { return std::unexpected(invalid_argument(error)); }

// --cpus N: N sub-queues on CPUs vmqd picks; --cpus A,B,...: one on each.
Result<void> parse_sub_queues(const std::string& text, api::QueueAddParams& params) {
  std::vector<std::uint32_t> numbers;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    auto n = parse_number("--cpus", text.substr(start, comma - start), api::kCpuMax);
    if (!n) return std::unexpected(n.error());
    numbers.push_back(static_cast<std::uint32_t>(*n));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (numbers.size() == 1)
    params.sub_queues = numbers.front();
  else
    params.sub_queue_cpus = std::move(numbers);
  return {};
}

Result<api::QueueAddParams> queue_add_params(const QueueAddArgs& a) {
  auto rule = parse_filter(a.mac, a.vlan, a.untagged);
  if (!rule) return std::unexpected(rule.error());
  if (a.port.empty() == !a.vhost_user)
    return fail(Errc::invalid_argument, "give the VM's port: --port IF (a tap) or --vhost-user SOCKET");
  api::QueueAddParams params{a.name, a.uplink, a.port, a.vm, {}, {}, {}, {*rule}, {}, {}};
  if (a.vhost_user) {
    std::error_code ec;  // vmqd takes absolute paths only; a relative one is the caller's
    params.port = a.vhost_user->starts_with('/') ? *a.vhost_user : std::filesystem::absolute(*a.vhost_user, ec).string();
    params.port_kind = PortKind::vhost_user;
  }
  if (a.cpus) {
    if (auto ok = parse_sub_queues(*a.cpus, params); !ok) return std::unexpected(ok.error());
  }
  if (a.cpu) {
    auto cpu = parse_number("--cpu", *a.cpu, api::kCpuMax);
    if (!cpu) return std::unexpected(cpu.error());
    params.cpu = static_cast<std::uint32_t>(*cpu);
  }
  if (a.frames) {
    auto frames = parse_number("--frames", *a.frames, UINT32_MAX);
    if (!frames) return std::unexpected(frames.error());
    params.frames = static_cast<std::uint32_t>(*frames);
  }
  if (a.vlan_mode) {
    auto mode = parse_vlan_mode_option(*a.vlan_mode);
    if (!mode) return std::unexpected(mode.error());
    params.vlan_mode = *mode;
  }
  return params;
}

Result<api::QueueSetParams> queue_set_params(const QueueSetArgs& a) {
  if (!a.cpu && !a.name && !a.vm) return fail(Errc::invalid_argument, "nothing to change: give --cpu, --name or --vm");
  api::QueueSetParams params{a.queue, {}, a.name, a.vm, std::nullopt};
  if (a.cpu == "auto") {
    params.auto_cpu = true;
  } else if (a.cpu) {
    auto cpu = parse_number("--cpu", *a.cpu, api::kCpuMax);
    if (!cpu) return std::unexpected(cpu.error());
    params.cpu = static_cast<std::uint32_t>(*cpu);
  }
  return params;
}

Outcome add_queue(Session& session, const QueueAddArgs& args) {
  auto params = queue_add_params(args);
  if (!params) return bad_argument(params.error());
  return session.run<api::QueueAdd>(*params, queue_added_text);
}

Outcome set_queue(Session& session, const QueueSetArgs& args) {
  auto params = queue_set_params(args);
  if (!params) return bad_argument(params.error());
  return session.run<api::QueueSet>(*params, queue_updated_text);
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
  auto* port = cmd->add_option("--port", a->port, "The VM's port (tap) to deliver to")->type_name("IF");
  cmd->add_option("--vhost-user", a->vhost_user,
                  "Instead of a tap: vmqd listens on this socket path as the vhost-user back end of the VM's "
                  "virtio-net device (QEMU connects to it), and puts the queue's frames into the guest's memory")
      ->type_name("SOCKET")
      ->excludes(port);
  cmd->add_option("--mac", a->mac, "The VM's MAC address (the queue's first filter)")->type_name("MAC")->required();
  cmd->add_option("--vlan", a->vlan, "VLAN id 1..4094 the filter matches")->type_name("N");
  cmd->add_flag("--untagged", a->untagged, "Match untagged and priority-tagged frames (the default)");
  cmd->add_option("--cpu", a->cpu, "CPU of the queue's worker; pins the queue there (default: vmqd picks one, and the rebalancer may move it)")->type_name("N");
  cmd->add_option("--cpus", a->cpus, "VMMQ: N sub-queues, each on its own CPU (vmqd picks them), or one on each CPU listed; the VM's flows are spread over them, and the port needs as many queues (a multi-queue tap)")
      ->type_name("N|CPU,CPU,...")
      ->excludes("--cpu");
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
  cmd->add_option("--cpu", a->cpu, "Move the queue to this CPU's worker and pin it there; auto: the rebalancer may move it again (it stays where it is)")->type_name("N|auto");
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
  runner.on(group->add_subcommand("list", "One line per queue"),
            [](Session& s) { return s.run<api::QueueList>({}, queue_list_text); });
  add_single_queue_command(*group, runner, "show", "Everything about one queue: settings, filters, counters",
                           [](Session& s, const std::string& q) { return s.run<api::QueueShow>({q}, queue_detail_text); });
  add_queue_set(*group, runner);
  add_single_queue_command(*group, runner, "pause", "Stop delivering; frames go to the default queue meanwhile",
                           [](Session& s, const std::string& q) { return s.run<api::QueuePause>({q}, queue_state_text); });
  add_single_queue_command(*group, runner, "resume", "Deliver again after a pause",
                           [](Session& s, const std::string& q) { return s.run<api::QueueResume>({q}, queue_state_text); });
  add_single_queue_command(*group, runner, "del", "Drain and delete a queue and its filters",
                           [](Session& s, const std::string& q) { return s.run<api::QueueDel>({q}, queue_deleted_text); });
}

}  // namespace vmq::cli
