// Whether vmqd may listen on a Unix socket path: its directory exists, and
// the path is free or holds a socket nobody listens on any more (left by a
// vmqd that stopped). Checked when a vhost-user queue is asked for, and
// again just before its socket replaces a stale one.
#pragma once

#include <string>

#include "core/error.h"

namespace vmq::vhost {

Result<void> check_listen_path(const std::string& path);

}  // namespace vmq::vhost
