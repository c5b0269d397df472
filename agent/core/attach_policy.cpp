#include "core/attach_policy.h"

#include <fmt/format.h>

namespace vmq {

Result<AttachPolicy> parse_attach_policy(std::string_view text) {
  if (text == "auto") return AttachPolicy::automatic;
  if (text == "netlink") return AttachPolicy::netlink;
  return fail(Errc::invalid_argument, fmt::format("invalid XDP attach policy '{}' (expected auto or netlink)", text));
}

}  // namespace vmq
