// A VM port that is a vhost-user device (os/vm_port.h): a queue's frames go
// from the uplink's UMEM straight into the guest's RX virtqueue, one copy
// into guest memory, no skb and no system call per frame. The copy happens
// inside transmit(), so a frame is done (delivered, or refused when no guest
// is connected or its ring is full) as soon as it was taken.
//
// A frame whose TCP/UDP checksum its sender deferred goes to the guest with
// the virtio-net header's NEEDS_CSUM when the guest negotiated
// VIRTIO_NET_F_GUEST_CSUM; otherwise it is completed here.
//
// With a bridge configured, the port also carries the VM's other traffic
// through its leg (vhost/tap_leg.h), on the same worker: the bridge's frames
// for the VM into the same RX virtqueue, and the guest's TX virtqueue to the
// bridge. The guest's transmit is polled (the worker sleeps at most 1 ms).
//
// This header includes no DPDK header: the agent's other parts open such a
// port through it without DPDK's include paths.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/error.h"
#include "core/log.h"
#include "core/queue_state.h"
#include "os/uplink_umem.h"
#include "os/vm_port.h"
#include "vhost/vhost_user_device.h"

namespace vmq::vhost {

struct VhostUserSettings {
  SocketAccess access;
  // The bridge each vhost-user VM's leg joins (os/tap_leg.h); empty: no leg,
  // the guest gets only its queue's frames and cannot transmit.
  std::string bridge;
};

// Starts DPDK's EAL if needed, listens on `path` and returns queue `queue`'s
// port; with a bridge, its leg is tap vmqvu<queue>.
Result<std::unique_ptr<os::VmPort>> open_vhost_user_port(os::UplinkUmem& umem, QueueId queue, const std::string& path,
                                                        const VhostUserSettings& settings, const LogSink& log);

}  // namespace vmq::vhost
