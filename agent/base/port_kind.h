// What kind of device a VM's port is: how a queue's frames reach the guest.
#pragma once

#include <string_view>

#include "base/error.h"

namespace vmq {

enum class PortKind {
  netdev,      // a network device (QEMU's tap, a veth): AF_XDP transmit on the uplink's UMEM
  vhost_user,  // a vhost-user socket: vmqd is the back end of the guest's virtio-net device
};

std::string_view to_string(PortKind kind);
Result<PortKind> parse_port_kind(std::string_view text);

}  // namespace vmq
