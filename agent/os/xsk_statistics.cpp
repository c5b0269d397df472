#include "os/xsk_statistics.h"

#include <sys/socket.h>

#include <cerrno>

namespace vmq::os {

Result<xdp_statistics> xsk_statistics(int xsk_fd) {
  xdp_statistics stats{};
  socklen_t length = sizeof stats;
  if (getsockopt(xsk_fd, SOL_XDP, XDP_STATISTICS, &stats, &length) != 0)
    return fail_errno(errno, "reading an AF_XDP socket's XDP_STATISTICS");
  return stats;
}

}  // namespace vmq::os
