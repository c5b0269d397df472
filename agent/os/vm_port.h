// A VM's port as a queue's worker sees it: where the queue's frames leave the
// uplink's UMEM for the guest. Each kind of port (a netdev through an AF_XDP
// TX socket today, a vhost-user device's virtio ring next) implements these
// few operations; the worker calls them once per batch or per round, never
// per frame.
//
// Every call comes from the one worker serving the queue, except
// in_flight() and counters() (any thread) and reclaim() (the control side,
// once no worker serves the queue).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace vmq::os {

// A frame in the uplink's UMEM: where it starts and how long it is.
struct UmemFrame {
  std::uint64_t addr = 0;
  std::uint32_t len = 0;
};

struct PortCounters {
  std::uint64_t delivered_packets = 0;   // transmissions completed and not refused
  std::uint64_t delivered_bytes = 0;
  std::uint64_t refused = 0;             // dropped by the port at transmit (no carrier, receiver full)
  std::uint64_t errors = 0;              // transmit kicks the port refused (down, gone)
  std::uint64_t checksum_completed = 0;  // deferred TCP/UDP checksums completed on the way
  std::uint64_t invalid_descs = 0;       // descriptors the kernel found invalid (AF_XDP ports)
  // The VM's other traffic, for a port that carries it (a vhost-user port's leg).
  bool has_leg = false;
  std::uint64_t leg_to_guest = 0;          // bridge frames put into the guest
  std::uint64_t leg_to_guest_refused = 0;  // bridge frames the guest had no room for, or no guest
  std::uint64_t leg_from_guest = 0;        // frames the guest transmitted, written to the bridge
};

class VmPort {
 public:
  virtual ~VmPort() = default;

  // Takes the first frames of `batch` it has room for, in order, and returns
  // how many it took; the rest stay the caller's.
  virtual std::uint32_t transmit(std::span<const UmemFrame> batch) = 0;
  // Pushes what transmit() queued on towards the guest, if the port needs
  // a push (a system call for a netdev).
  virtual void kick() = 0;
  // Appends the frames whose transmission is over (delivered or refused) to
  // `done`, for the UMEM's fill rings; returns how many.
  virtual unsigned reap(std::vector<std::uint64_t>& done) = 0;
  // Frames taken by transmit() and not yet reaped.
  virtual std::uint32_t in_flight() const = 0;
  // With no worker serving the queue: appends every frame the port still
  // holds to `done`; frames it can never give back are counted lost.
  virtual void reclaim(std::vector<std::uint64_t>& done) = 0;
  virtual PortCounters counters() const = 0;
  // A descriptor that becomes readable when the port has work for the
  // worker, or -1 when it has none (completions then come without a wakeup).
  virtual int poll_fd() const = 0;
  // Moves the VM's other traffic, if the port carries any besides the
  // queue's frames (a vhost-user port's leg in the host's bridge), once per
  // round; returns the frames moved.
  virtual unsigned exchange() { return 0; }
  // Whether work may come without a wakeup (a guest's transmit ring): the
  // worker then sleeps only briefly.
  virtual bool polled() const { return false; }
};

}  // namespace vmq::os
