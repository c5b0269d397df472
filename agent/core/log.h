// Where libraries send what they have to say: the agent decides how to log
// it (journald-friendly lines); tests may collect or drop it.
#pragma once

#include <functional>
#include <string_view>

namespace vmq {

enum class LogLevel { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };  // syslog priorities

using LogSink = std::function<void(LogLevel, std::string_view)>;

}  // namespace vmq
