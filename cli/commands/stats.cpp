// stats [QUEUE] [--watch [SECONDS]]: counters, and rates while watching.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <set>

#include <fmt/format.h>

#include "args.h"
#include "commands/command.h"
#include "core/default_reason.h"
#include "format.h"
#include "rates.h"
#include "table.h"

namespace vmq::cli {
namespace {

volatile std::sig_atomic_t stop_requested = 0;

extern "C" void request_stop(int) { stop_requested = 1; }

// Rates need a previous sample: without one (no --watch), rate columns are left out.
std::string default_queue_text(const json& uplink, RateTracker* rates) {
  std::vector<Column> columns{{"REASON"}, {"PACKETS", Align::right}, {"BYTES", Align::right}};
  if (rates) columns.push_back({"PACKETS/s", Align::right});
  Table table(columns, 2);
  const json& by_reason = member(uplink, {"default_queue"});
  auto add = [&](const std::string& reason) {
    const std::uint64_t packets = count(member(by_reason, {reason, "packets"}));
    std::vector<std::string> row{reason, std::to_string(packets), text(member(by_reason, {reason, "bytes"}))};
    if (rates) row.push_back(rate_text(rates->rate(text(member(uplink, {"name"})) + "/" + reason, packets)));
    table.add_row(std::move(row));
  };
  // In the data path's order, then any reason a newer agent adds, then the total.
  std::set<std::string> known{"total"};
  for (std::uint32_t r = 0; r < VMQ_DEFAULT_REASON_COUNT; ++r) {
    const std::string reason(to_string(static_cast<vmq_default_reason>(r)));
    known.insert(reason);
    add(reason);
  }
  if (by_reason.is_object())
    for (const auto& item : by_reason.items())
      if (!known.contains(item.key())) add(item.key());
  add("total");

  const json& umem = member(uplink, {"umem"});
  return fmt::format("uplink {}: default queue (the host's switch)\n", text(member(uplink, {"name"}))) +
         table.render() +
         fmt::format("  UMEM: {} frames: {} in kernel, {} in flight, {} in worker, {} lost; fill ring {}\n",
                     count(member(umem, {"frames_total"})), count(member(umem, {"frames_in_kernel"})),
                     count(member(umem, {"frames_in_flight"})), count(member(umem, {"frames_in_worker"})),
                     count(member(umem, {"frames_lost"})), count(member(umem, {"fill_ring_entries"})));
}

std::string queues_text(const json& queues, RateTracker* rates) {
  std::vector<Column> columns{{"ID", Align::right}, {"NAME"}, {"UPLINK"}, {"STATE"}};
  for (const char* counter : {"RX", "DELIVERED", "DROPPED", "CHECKSUMS"}) {
    columns.push_back({counter, Align::right});
    if (rates) columns.push_back({fmt::format("{}/s", counter), Align::right});
  }
  columns.push_back({"IN FLIGHT", Align::right});
  Table table(columns, 2);
  for (const auto& q : queues) {
    const json& c = member(q, {"counters"});
    const std::string id = text(member(q, {"id"}));
    std::vector<std::string> row{id, text(member(q, {"name"})), text(member(q, {"uplink"})),
                                 text(member(q, {"state"}))};
    const std::pair<const char*, std::uint64_t> counters[] = {{"rx", count(member(c, {"classified", "packets"}))},
                                                              {"delivered", count(member(c, {"delivered", "packets"}))},
                                                              {"dropped", dropped_total(c)},
                                                              {"checksums", count(member(c, {"checksum_completed"}))}};
    for (const auto& [name, value] : counters) {
      row.push_back(std::to_string(value));
      if (rates) row.push_back(rate_text(rates->rate(fmt::format("queue/{}/{}", id, name), value)));
    }
    row.push_back(text(member(c, {"in_flight"})));
    table.add_row(std::move(row));
  }
  return "queues:\n" + table.render();
}

std::string workers_text(const json& workers) {
  Table table({{"CPU", Align::right}, {"TID", Align::right}, {"QUEUES", Align::right}, {"BUSY", Align::right},
               {"NS/FRAME", Align::right}, {"FRAMES", Align::right}},
              2);
  for (const auto& w : workers) {
    const json& busy = member(w, {"busy_share"});
    const json& per_frame = member(w, {"ns_per_frame"});
    table.add_row({text(member(w, {"cpu"})), text(member(w, {"tid"})), text(member(w, {"queues"})),
                   busy.is_number() ? fmt::format("{:.1f}%", 100 * busy.get<double>()) : "-",
                   per_frame.is_number() ? fmt::format("{:.0f}", per_frame.get<double>()) : "-",
                   text(member(w, {"frames"}))});
  }
  return "workers (busy share and CPU time per frame over the last second):\n" + table.render();
}

// A named queue's stats leave out the uplinks: the question was about the queue.
std::string stats_text(const json& stats, bool one_queue, RateTracker* rates) {
  if (rates) rates->next_sample(static_cast<std::int64_t>(count(member(stats, {"uptime_ms"}))));
  std::string out;
  if (!one_queue) {
    for (const auto& uplink : member(stats, {"uplinks"})) out += default_queue_text(uplink, rates) + "\n";
    out += workers_text(member(stats, {"workers"})) + "\n";
  }
  return out + queues_text(member(stats, {"queues"}), rates);
}

json stats_params(const StatsArgs& args) {
  json params = json::object();
  if (args.queue) params["queue"] = *args.queue;
  return params;
}

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
    auto result = session.call("stats", stats_params(args));
    if (!result) return std::unexpected(result.error());
    if (json_lines) {
      print_json_line(*result);
      std::fflush(stdout);
    } else {
      const std::string when = clock_text(static_cast<std::int64_t>(count(member(*result, {"timestamp_ms"}))));
      screen.show(fmt::format("{}    (Ctrl-C to stop)    {}\n\n", heading, when) +
                  stats_text(*result, args.queue.has_value(), &rates));
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
  auto result = session.call("stats", stats_params(*args));
  if (!result) return std::unexpected(result.error());
  const bool one_queue = args->queue.has_value();
  session.present(*result, [one_queue](const json& stats) { return stats_text(stats, one_queue, nullptr); });
  return {};
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
