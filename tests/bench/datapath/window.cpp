#include "window.h"

#include <signal.h>

#include <atomic>
#include <thread>

namespace vmq::bench {
namespace {

std::atomic<bool> g_interrupted{false};

void on_signal(int) { g_interrupted = true; }

using Clock = std::chrono::steady_clock;

}  // namespace

void install_interrupt_handlers() {
  struct sigaction action{};
  action.sa_handler = on_signal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool interrupted() { return g_interrupted.load(); }

Result<void> pause_for(double seconds) {
  const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (Clock::now() < until) {
    if (interrupted()) return fail(Errc::invalid_state, "interrupted");
    std::this_thread::sleep_for(std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(20)));
  }
  return {};
}

Result<double> measure_window(Generator& generator, double warmup, double window, const WindowProbe& probe) {
  if (auto ok = generator.start(); !ok) return std::unexpected(ok.error());
  auto measured = [&]() -> Result<double> {
    if (auto ok = pause_for(warmup); !ok) return std::unexpected(ok.error());
    const auto start = Clock::now();
    if (auto ok = probe.at_start(); !ok) return std::unexpected(ok.error());
    if (auto ok = pause_for(window); !ok) return std::unexpected(ok.error());
    const auto end = Clock::now();
    if (auto ok = probe.at_end(); !ok) return std::unexpected(ok.error());
    return std::chrono::duration<double>(end - start).count();
  }();
  auto stopped = generator.stop();
  if (!measured) return measured;
  if (!stopped) return std::unexpected(stopped.error());
  return measured;
}

double per_second_millions(std::uint64_t frames, double seconds) {
  return seconds > 0 ? static_cast<double>(frames) / seconds / 1e6 : 0;
}

}  // namespace vmq::bench
