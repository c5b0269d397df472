// Where libraries send what they have to say: the agent decides how to log
// it (journald-friendly lines); tests may collect or drop it.
#pragma once

#include <functional>
#include <string_view>

namespace vmq {

enum class LogLevel { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };  // syslog priorities

using LogSink = std::function<void(LogLevel, std::string_view)>;

inline std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::error: return "error";
    case LogLevel::warning: return "warning";
    case LogLevel::notice: return "notice";
    case LogLevel::info: return "info";
    case LogLevel::debug: return "debug";
  }
  return "info";
}

}  // namespace vmq
