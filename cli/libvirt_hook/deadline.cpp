#include "libvirt_hook/deadline.h"

#include <unistd.h>

#include <csignal>
#include <cstring>

namespace vmq::libvirt_hook {
namespace {

volatile std::sig_atomic_t deadline_status = 0;

extern "C" void on_deadline(int) {
  // Only async-signal-safe calls here.
  static const char message[] = "vmq-libvirt-hook: error: vmqd did not answer in time; gave up\n";
  [[maybe_unused]] auto written = ::write(STDERR_FILENO, message, sizeof message - 1);
  ::_exit(deadline_status);
}

}  // namespace

void exit_at_deadline(std::chrono::milliseconds after, int exit_status) {
  deadline_status = exit_status;
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_handler = on_deadline;
  ::sigaction(SIGALRM, &action, nullptr);
  const auto seconds = std::chrono::ceil<std::chrono::seconds>(after).count();
  ::alarm(static_cast<unsigned>(seconds > 0 ? seconds : 1));
}

}  // namespace vmq::libvirt_hook
