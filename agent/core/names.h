// Validation of the names operators give to queues, VMs and ports.
#pragma once

#include <string_view>

#include "base/port_kind.h"
#include "core/error.h"

namespace vmq {

// 1..64 of [A-Za-z0-9_.:-], starting with a letter or digit, not all digits
// (so that "NAME|ID" arguments are never ambiguous).
Result<void> check_queue_name(std::string_view name);
// Up to 64 printable characters (libvirt domain names); empty means none.
Result<void> check_vm_name(std::string_view name);
// A network device name: 1..15 characters, no '/', ':' or whitespace.
Result<void> check_ifname(std::string_view name, std::string_view what);
// A vhost-user socket's path: absolute, printable, no "." or ".." component,
// short enough for a Unix socket address (107 bytes).
Result<void> check_socket_path(std::string_view path);
// The port a queue delivers to, checked by its kind.
Result<void> check_port_name(PortKind kind, std::string_view port);

}  // namespace vmq
