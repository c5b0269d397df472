// A network device's counters (the kernel's rtnl_link_stats64), read with
// RTM_GETLINK over a netlink socket opened inside the device's namespace: a
// socket stays in the namespace it was created in, so one reader per
// namespace answers from any thread without switching namespaces.
#pragma once

#include <cstdint>
#include <string>

#include "base/unique_fd.h"
#include "core/error.h"

namespace vmq::bench {

struct LinkCounters {
  std::uint64_t rx_packets = 0;
  std::uint64_t tx_packets = 0;
  std::uint64_t rx_dropped = 0;
  std::uint64_t tx_dropped = 0;
  std::uint64_t rx_nohandler = 0;
};

LinkCounters operator-(const LinkCounters& after, const LinkCounters& before);

class LinkStatsReader {
 public:
  static Result<LinkStatsReader> open(const std::string& netns);
  Result<LinkCounters> read(const std::string& ifname) const;
  const std::string& netns() const { return netns_; }

 private:
  LinkStatsReader(std::string netns, UniqueFd socket) : netns_(std::move(netns)), socket_(std::move(socket)) {}
  std::string netns_;
  UniqueFd socket_;
};

}  // namespace vmq::bench
