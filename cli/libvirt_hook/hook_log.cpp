#include "libvirt_hook/hook_log.h"

#include <syslog.h>

#include <cstdio>

#include <fmt/format.h>

namespace vmq::libvirt_hook {

HookLog::HookLog(std::string prefix) : prefix_(std::move(prefix)) {
  ::openlog("vmq-libvirt-hook", LOG_PID, LOG_DAEMON);
}

HookLog::~HookLog() { ::closelog(); }

void HookLog::write(int priority, std::string_view line) const {
  const char* level = priority == kError ? "error: " : priority == kWarning ? "warning: " : "";
  const std::string text = fmt::format("{}: {}{}", prefix_, level, line);
  std::fprintf(stderr, "vmq-libvirt-hook: %s\n", text.c_str());
  ::syslog(priority, "%s", text.c_str());
}

}  // namespace vmq::libvirt_hook
