#include "base/port_kind.h"

#include <fmt/format.h>

namespace vmq {

std::string_view to_string(PortKind kind) { return kind == PortKind::vhost_user ? "vhost-user" : "netdev"; }

Result<PortKind> parse_port_kind(std::string_view text) {
  if (text == "netdev") return PortKind::netdev;
  if (text == "vhost-user") return PortKind::vhost_user;
  return fail(Errc::invalid_argument, fmt::format("invalid port kind '{}' (expected netdev or vhost-user)", text));
}

}  // namespace vmq
