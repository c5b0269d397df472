// A last bound on the hook's run time: libvirt waits for the hook, and every
// wait on vmqd is already bounded, but connect(2) on a Unix socket blocks
// while vmqd's listen backlog is full. Past the deadline the process logs one
// line and exits with the status the operator's strict setting asks for.
#pragma once

#include <chrono>

namespace vmq::libvirt_hook {

void exit_at_deadline(std::chrono::milliseconds after, int exit_status);

}  // namespace vmq::libvirt_hook
