// The kernel's XDP_STATISTICS of one AF_XDP socket. Counters an older kernel
// does not have stay 0.
#pragma once

#include <linux/if_xdp.h>

#include "core/error.h"

namespace vmq::os {

Result<xdp_statistics> xsk_statistics(int xsk_fd);

}  // namespace vmq::os
