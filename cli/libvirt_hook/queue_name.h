// The name the hook gives the queue of one domain interface. Derived from
// the domain's name and the interface's MAC (both stable across restarts and
// migrations, unlike the tap's name), so that stopped/release and a repeated
// started find the same queue without remembering anything.
#pragma once

#include <string>
#include <string_view>

#include "core/mac_address.h"

namespace vmq::libvirt_hook {

// "<domain>.<MAC as 12 hex digits>", e.g. "web1.525400123456": always a valid
// queue name (agent/core/names.h). A domain name that is too long or has
// characters a queue name cannot carry is shortened or rewritten, and then a
// hash of the full name keeps two such domains apart.
std::string queue_name_for(std::string_view domain, const MacAddress& mac);

}  // namespace vmq::libvirt_hook
