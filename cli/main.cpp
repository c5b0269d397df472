// vmqctl: the operator's command line for vmqd. Parses the command line,
// makes one call on vmqd's control socket, prints the result.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "commands/command.h"
#include "failure.h"
#include "session.h"

namespace {

constexpr const char* kFooter =
    "Queues are named by NAME or by numeric ID wherever NAME|ID is shown.\n"
    "\n"
    "Exit status:\n"
    "  0  success\n"
    "  1  vmqd refused the request (or permission denied on its socket)\n"
    "  2  usage error: the command line is wrong, nothing was sent\n"
    "  3  vmqd unreachable\n"
    "\n"
    "Environment: VMQ_SOCKET replaces the default socket path; --socket overrides both.\n"
    "See vmqctl(8).";

// The subcommand the command line got to, e.g. "queue" in "vmqctl queue add".
const CLI::App& deepest_command(const CLI::App& app) {
  const CLI::App* current = &app;
  while (!current->get_subcommands().empty()) current = current->get_subcommands().front();
  return *current;
}

std::string command_path(const CLI::App& app) {
  std::string path = app.get_name();
  for (const CLI::App* current = &app; !current->get_subcommands().empty();) {
    current = current->get_subcommands().front();
    path += " " + current->get_name();
  }
  return path;
}

// CLI11 only says "A subcommand is required": name the word it did not know
// and the commands it would have known.
std::string missing_command_message(const CLI::App& app) {
  const CLI::App& command = deepest_command(app);
  std::string choices;
  for (const CLI::App* sub : command.get_subcommands([](const CLI::App*) { return true; }))
    choices += (choices.empty() ? "" : ", ") + sub->get_name();
  const auto unknown = app.remaining();
  if (!unknown.empty() && !unknown.front().starts_with('-'))
    return "unknown command '" + unknown.front() + "' (expected " + choices + ")";
  return "a command is required: " + choices;
}

int usage_error(const CLI::App& app, const CLI::ParseError& e, bool json_mode) {
  const CLI::App& command = deepest_command(app);
  const bool command_missing = command.get_require_subcommand_min() > 0 && command.get_subcommands().empty();
  vmq::cli::Failure failure = vmq::cli::usage_failure(command_missing ? missing_command_message(app) : e.what());
  failure.hint = "run '" + command_path(app) + " --help' for usage";
  return vmq::cli::report(failure, json_mode);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vmqctl: control vmqd, the Virtual Machine Queues agent for Linux/KVM hosts.", "vmqctl"};
  app.footer(kFooter);
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the command: vmqctl queue list --json

  vmq::cli::GlobalOptions options;
  app.add_option("-s,--socket", options.socket, "vmqd's control socket")
      ->envname("VMQ_SOCKET")
      ->default_str(options.socket)
      ->type_name("PATH");
  auto* json_flag = app.add_flag("-j,--json", options.json, "Print the API result as JSON (for scripts)");
  app.set_version_flag("-V,--version", std::string("vmqctl ") + VMQ_VERSION);

  vmq::cli::Runner runner;
  vmq::cli::add_status_commands(app, runner);
  vmq::cli::add_queue_commands(app, runner);
  vmq::cli::add_filter_commands(app, runner);
  vmq::cli::add_stats_command(app, runner);
  vmq::cli::add_trace_command(app, runner);
  vmq::cli::add_migrate_commands(app, runner);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    return usage_error(app, e, json_flag->count() > 0);
  }
  vmq::cli::Session session(options);
  auto outcome = runner.run(session);
  if (!outcome) return vmq::cli::report(outcome.error(), options.json);
  return 0;
}
