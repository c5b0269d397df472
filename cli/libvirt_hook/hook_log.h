// The hook's log: one line per event on stderr (libvirt keeps a failing hook's
// stderr in its error message) and the same line in the system log, where an
// operator finds what the hook did for a domain that started fine.
#pragma once

#include <string>
#include <string_view>

namespace vmq::libvirt_hook {

class HookLog {
 public:
  explicit HookLog(std::string prefix);  // e.g. "domain web1 started"
  ~HookLog();
  HookLog(const HookLog&) = delete;
  HookLog& operator=(const HookLog&) = delete;

  void info(std::string_view line) const { write(kInfo, line); }
  void warning(std::string_view line) const { write(kWarning, line); }
  void error(std::string_view line) const { write(kError, line); }

 private:
  static constexpr int kError = 3, kWarning = 4, kInfo = 6;  // syslog priorities
  void write(int priority, std::string_view line) const;

  std::string prefix_;
};

}  // namespace vmq::libvirt_hook
