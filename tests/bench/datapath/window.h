// One measurement: traffic from the generator, a warm-up, then what a probe
// reads at the start and at the end of a fixed window.
#pragma once

#include <chrono>
#include <functional>

#include "core/error.h"
#include "generator.h"

namespace vmq::bench {

// Set by SIGINT/SIGTERM: every wait of the benchmark gives up at once, and
// everything it set up is taken down on the way out.
void install_interrupt_handlers();
bool interrupted();
// Sleeps, unless interrupted (then an error).
Result<void> pause_for(double seconds);

struct WindowProbe {
  std::function<Result<void>()> at_start;
  std::function<Result<void>()> at_end;
};

// Starts the generator, waits `warmup`, calls probe.at_start, waits `window`,
// calls probe.at_end, stops the generator. Returns the seconds between the
// two probes' calls.
Result<double> measure_window(Generator& generator, double warmup, double window, const WindowProbe& probe);

double per_second_millions(std::uint64_t frames, double seconds);

}  // namespace vmq::bench
