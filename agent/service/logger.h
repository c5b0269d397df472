// vmqd's log: one line per event on stderr. Under systemd (JOURNAL_STREAM
// set) each line starts with its syslog priority, "<4>...", which journald
// turns into the entry's priority.
#pragma once

#include <atomic>
#include <mutex>
#include <string_view>

#include "core/log.h"

namespace vmq::service {

class Logger {
 public:
  Logger();
  void set_level(LogLevel level) { level_ = level; }
  void log(LogLevel level, std::string_view message);
  LogSink sink() {
    return [this](LogLevel level, std::string_view message) { log(level, message); };
  }

 private:
  std::atomic<LogLevel> level_{LogLevel::info};
  bool journal_;
  std::mutex lock_;
};

}  // namespace vmq::service
