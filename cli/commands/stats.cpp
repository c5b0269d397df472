// stats [QUEUE] [--watch [SECONDS]]: counters, and rates while watching.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>

#include <fmt/format.h>

#include "args.h"
#include "commands/command.h"
#include "rates.h"
#include "stats_text.h"

namespace vmq::cli {
namespace {

volatile std::sig_atomic_t stop_requested = 0;

extern "C" void request_stop(int) { stop_requested = 1; }

api::StatsParams stats_params(const StatsArgs& args) { return {args.queue}; }

std::string clock_text(std::int64_t timestamp_ms) {
  const std::time_t seconds = static_cast<std::time_t>(timestamp_ms / 1000);
  std::tm local{};
  char buf[16] = "";
  if (::localtime_r(&seconds, &local)) std::strftime(buf, sizeof buf, "%H:%M:%S", &local);
  return buf;
}

// Hides the cursor while redrawing a terminal; shows it again however the watch ends.
class WatchScreen {
 public:
  explicit WatchScreen(bool redraw) : redraw_(redraw) {
    if (redraw_) std::fputs("\033[?25l", stdout);
  }
  // After Ctrl-C the shell's prompt belongs on a line of its own, below the "^C".
  ~WatchScreen() {
    if (redraw_) std::fputs("\n\033[?25h", stdout);
    std::fflush(stdout);
  }
  WatchScreen(const WatchScreen&) = delete;
  WatchScreen& operator=(const WatchScreen&) = delete;

  void show(const std::string& frame) const {
    std::fputs(redraw_ ? ("\033[H\033[2J" + frame).c_str() : (frame + "\n").c_str(), stdout);
    std::fflush(stdout);
  }

 private:
  bool redraw_;
};

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a signal ends the sleep at once
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

void sleep_unless_stopped(double seconds) {
  using clock = std::chrono::steady_clock;
  const auto deadline =
      clock::now() + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
  while (!stop_requested) {
    const auto left = deadline - clock::now();
    if (left <= clock::duration::zero()) return;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    const timespec ts{static_cast<std::time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    ::nanosleep(&ts, nullptr);
  }
}

// Ctrl-C (or SIGTERM) ends a watch successfully: that is how it is meant to end.
Outcome watch_stats(Session& session, const StatsArgs& args) {
  install_stop_handlers();
  const bool json_lines = session.json_mode();
  WatchScreen screen(!json_lines && ::isatty(STDOUT_FILENO));
  RateTracker rates;
  const std::string heading = fmt::format("Every {}s: vmqctl stats{}{}", *args.interval, args.queue ? " " : "",
                                          args.queue.value_or(""));
  while (!stop_requested) {
    auto answer = session.call<api::Stats>(stats_params(args));
    if (!answer) return std::unexpected(answer.error());
    if (json_lines) {
      print_json_line(answer->result);
      std::fflush(stdout);
    } else {
      const std::string when = clock_text(static_cast<std::int64_t>(answer->reply.timestamp_ms));
      screen.show(fmt::format("{}    (Ctrl-C to stop)    {}\n\n", heading, when) +
                  stats_text(answer->reply, args.queue.has_value(), &rates));
    }
    sleep_unless_stopped(*args.interval);
  }
  return {};
}

Outcome show_stats(Session& session, const std::optional<std::string>& queue,
                   const std::optional<std::string>& watch) {
  auto args = resolve_stats_args(queue, watch);
  if (!args) return std::unexpected(invalid_argument(args.error()));
  if (args->interval) return watch_stats(session, *args);
  const bool one_queue = args->queue.has_value();
  return session.run<api::Stats>(stats_params(*args), [one_queue](const api::StatsReply& stats) {
    return stats_text(stats, one_queue, nullptr);
  });
}

}  // namespace

void add_stats_command(CLI::App& app, Runner& runner) {
  auto queue = std::make_shared<std::optional<std::string>>();
  auto watch = std::make_shared<std::optional<std::string>>();
  auto* cmd = app.add_subcommand("stats", "Counters of the default queue per uplink and reason, and of each queue");
  cmd->add_option("QUEUE", *queue, "Only this queue (NAME|ID)")->type_name("");
  cmd->add_option("-w,--watch", *watch, "Redraw every SECONDS (default 1), with rates, until Ctrl-C")
      ->expected(0, 1)
      ->type_name("[SECONDS]");
  runner.on(cmd, [queue, watch](Session& s) { return show_stats(s, *queue, *watch); });
}

}  // namespace vmq::cli
