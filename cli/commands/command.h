// How command groups plug into vmqctl: each registers its CLI11 subcommands
// and, for each, the action to run once the whole command line has parsed.
#pragma once

#include <functional>
#include <utility>

#include <CLI/CLI.hpp>

#include "session.h"

namespace vmq::cli {

using Action = std::function<Outcome(Session&)>;

// Keeps the action of the subcommand the command line selected.
class Runner {
 public:
  void on(CLI::App* command, Action action) {
    command->callback([this, action = std::move(action)] { selected_ = action; });
  }
  bool selected() const { return static_cast<bool>(selected_); }
  Outcome run(Session& session) const { return selected_(session); }

 private:
  Action selected_;
};

// One per command group, in commands/<group>.cpp.
void add_status_commands(CLI::App& app, Runner& runner);  // status, caps, version
void add_queue_commands(CLI::App& app, Runner& runner);
void add_filter_commands(CLI::App& app, Runner& runner);
void add_stats_command(CLI::App& app, Runner& runner);
void add_trace_command(CLI::App& app, Runner& runner);
void add_migrate_commands(CLI::App& app, Runner& runner);

}  // namespace vmq::cli
