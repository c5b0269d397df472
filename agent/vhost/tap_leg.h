// A vhost-user VM's leg in the host's bridge: a tap device vmqd creates and
// adds to the bridge. It carries what does not come through the VM's queue:
// broadcast, multicast and unmatched frames for the VM (ARP, frames from the
// host and from other VMs), and everything the guest transmits. The tap goes
// away with its descriptor.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <span>
#include <string>

#include "base/unique_fd.h"
#include "core/error.h"

namespace vmq::vhost {

class TapLeg {
 public:
  // Creates tap `name` (non-blocking, plain frames), up, in `bridge`.
  static Result<TapLeg> open(const std::string& name, const std::string& bridge);

  int fd() const { return fd_.get(); }
  // One frame from the bridge, or 0 when none is waiting.
  std::size_t read(std::span<std::uint8_t> buffer) const;
  // One frame to the bridge; false when the tap refused it.
  bool write(std::span<const iovec> frame) const;

 private:
  explicit TapLeg(UniqueFd fd) : fd_(std::move(fd)) {}

  UniqueFd fd_;
};

}  // namespace vmq::vhost
