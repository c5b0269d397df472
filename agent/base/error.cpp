#include "base/error.h"

#include <cstring>

namespace vmq {

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::not_found: return "not_found";
    case Errc::conflict: return "conflict";
    case Errc::invalid_state: return "invalid_state";
    case Errc::limit_reached: return "limit_reached";
    case Errc::unsupported: return "unsupported";
    case Errc::system: return "system";
    case Errc::protocol: return "protocol";
    case Errc::timeout: return "timeout";
    case Errc::permission: return "permission";
  }
  return "unknown";
}

Error system_error(int err, std::string_view what) {
  char buf[128];
  // GNU strerror_r returns the message, which may or may not be buf.
  const char* text = strerror_r(err, buf, sizeof buf);
  return Error{Errc::system, std::string(what) + ": " + text, err};
}

}  // namespace vmq
