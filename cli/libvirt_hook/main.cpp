// vmq's libvirt hook (installed as /etc/libvirt/hooks/qemu.d/vmq): gives the
// interfaces of a starting domain their vmq queues and removes them when it
// stops. It never calls back into libvirt. See docs/libvirt.md.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "libvirt_hook/deadline.h"
#include "libvirt_hook/hook.h"
#include "libvirt_hook/hook_config.h"
#include "libvirt_hook/hook_log.h"

namespace {

constexpr const char* kFooter =
    "libvirt runs it as qemu.d/vmq DOMAIN OPERATION SUB-OPERATION EXTRA with the domain XML on stdin.\n"
    "started, attach, reconnect: each selected interface gets a queue; stopped, release: they are removed\n"
    "(drained first); other operations change nothing. Nothing is ever written to stdout.\n"
    "\n"
    "Exit status: 0, or 1 when a failure occurred in strict mode (never for reconnect); 2 usage error.\n"
    "See docs/libvirt.md.";

// libvirt's arguments are data, not options, even when a domain's name starts
// with '-': everything after the hook's own options follows a "--".
std::vector<std::string> with_end_of_options(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::size_t first = 0;
  while (first < args.size()) {
    if (args[first] == "--config" && first + 1 < args.size()) {
      first += 2;
    } else if (args[first].starts_with("--config=") || args[first] == "--help" || args[first] == "-h") {
      first += 1;
    } else {
      break;
    }
  }
  if (first < args.size() && args[first] != "--") args.insert(args.begin() + static_cast<long>(first), "--");
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last first
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("vmq's libvirt qemu hook: queues follow libvirt domains", "vmq-libvirt-hook");
  vmq::libvirt_hook::Invocation invocation{"", "", "-", "-"};
  std::string config_path = vmq::libvirt_hook::kDefaultConfigPath;
  app.add_option("--config", config_path, "the hook's configuration file")->capture_default_str();
  app.add_option("domain", invocation.domain, "the domain's name")->required();
  app.add_option("operation", invocation.operation, "libvirt's operation, e.g. started")->required();
  app.add_option("sub-operation", invocation.sub_operation, "begin, end or -");
  app.add_option("extra", invocation.extra, "libvirt's extra argument or -");
  app.footer(kFooter);
  try {
    app.parse(with_end_of_options(argc, argv));
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "vmq-libvirt-hook: %s (run with --help for usage)\n", e.what());
    return 2;
  }

  // libvirt writes the whole document: read it all, whatever the operation.
  const std::string xml{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  const vmq::libvirt_hook::HookLog log("domain " + invocation.domain + " " + invocation.operation);
  if (vmq::libvirt_hook::action_for(invocation.operation) == vmq::libvirt_hook::Action::none) return 0;

  auto config = vmq::libvirt_hook::load_hook_config(config_path);
  if (!config) {
    // Whether the operator asked for strict mode is in the file we could not read.
    log.error(config.error().message + "; nothing done, the domain goes on");
    return 0;
  }
  // Each wait on vmqd is bounded by the timeout and the hook stops waiting after
  // one: three timeouts are more than a run can take unless connect(2) hangs.
  vmq::libvirt_hook::exit_at_deadline(3 * config->timeout, vmq::libvirt_hook::may_fail(invocation, *config) ? 1 : 0);
  return vmq::libvirt_hook::run_hook(invocation, xml, *config, log);
}
