#include "service/logger.h"

#include <cstdio>
#include <cstdlib>

namespace vmq::service {
Logger::Logger() : journal_(std::getenv("JOURNAL_STREAM") != nullptr) {}

void Logger::log(LogLevel level, std::string_view message) {
  if (static_cast<int>(level) > static_cast<int>(level_.load())) return;
  std::lock_guard lock(lock_);
  if (journal_)
    std::fprintf(stderr, "<%d>%.*s\n", static_cast<int>(level), static_cast<int>(message.size()), message.data());
  else
    std::fprintf(stderr, "vmqd: %s: %.*s\n", to_string(level).data(), static_cast<int>(message.size()),
                 message.data());
  std::fflush(stderr);
}

}  // namespace vmq::service
