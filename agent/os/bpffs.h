#pragma once

#include "core/error.h"

namespace vmq::os {

// Mounts the BPF filesystem at /sys/fs/bpf unless one is there already:
// libxdp's dispatcher pins its programs in it, and `ip netns exec` gives a
// namespace a fresh /sys without it. Returns whether it mounted one.
Result<bool> ensure_bpffs();

}  // namespace vmq::os
