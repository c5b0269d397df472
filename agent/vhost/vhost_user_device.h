// One vhost-user server socket and the guest device behind it: vmqd listens,
// QEMU (or any virtio-user front end) connects, and rte_vhost runs the
// protocol on its own thread (the guest's memory table, its rings, dirty-page
// logging during migration). A front end that breaks the protocol is
// disconnected by rte_vhost; the socket keeps listening for the next one.
//
// The worker delivering into the guest brackets each use with enter() and
// leave(); when the guest goes away rte_vhost's thread waits in
// destroy_device until the worker has left, so the worker never touches a
// device rte_vhost has freed.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/error.h"
#include "core/log.h"

namespace vmq::vhost {

// Who may connect: the socket's mode and group (QEMU's user under libvirt).
struct SocketAccess {
  mode_t mode = 0660;
  std::string group;  // empty: the daemon's group
};

class VhostUserDevice {
 public:
  // Listens on `path`. A socket file left there (by a vmqd that stopped) is
  // replaced; anything else at the path is refused.
  static Result<std::unique_ptr<VhostUserDevice>> listen(const std::string& path, const SocketAccess& access,
                                                         LogSink log);
  // Stops listening, disconnects the guest and removes the socket file.
  ~VhostUserDevice();
  VhostUserDevice(const VhostUserDevice&) = delete;
  VhostUserDevice& operator=(const VhostUserDevice&) = delete;

  const std::string& path() const { return path_; }
  bool connected() const { return vid_.load(std::memory_order_relaxed) >= 0; }

  // --- worker side ---
  // The guest's device id while one is ready, or -1 (then leave() is not needed).
  int enter();
  void leave() { busy_.store(false, std::memory_order_seq_cst); }
  // Whether the guest accepts frames whose checksum it completes
  // (VIRTIO_NET_F_GUEST_CSUM); valid between enter() and leave().
  bool guest_completes_checksums() const { return guest_csum_.load(std::memory_order_relaxed); }

  // --- rte_vhost's thread (callbacks) ---
  void attach(int vid);
  void detach(int vid);
  void features_changed(std::uint64_t features);

 private:
  VhostUserDevice(std::string path, LogSink log) : path_(std::move(path)), log_(std::move(log)) {}
  Result<void> start(const SocketAccess& access);

  std::string path_;
  LogSink log_;
  bool in_registry_ = false;
  bool driver_registered_ = false;
  std::atomic<int> vid_{-1};
  std::atomic<bool> busy_{false};
  std::atomic<bool> guest_csum_{false};
};

}  // namespace vmq::vhost
