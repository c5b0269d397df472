// Validation of the names operators give to queues, VMs and ports.
#pragma once

#include <string_view>

#include "core/error.h"

namespace vmq {

// 1..64 of [A-Za-z0-9_.:-], starting with a letter or digit, not all digits
// (so that "NAME|ID" arguments are never ambiguous).
Result<void> check_queue_name(std::string_view name);
// Up to 64 printable characters (libvirt domain names); empty means none.
Result<void> check_vm_name(std::string_view name);
// A network device name: 1..15 characters, no '/', ':' or whitespace.
Result<void> check_ifname(std::string_view name, std::string_view what);

}  // namespace vmq
