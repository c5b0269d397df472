#include "vhost/vhost_user_device.h"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <rte_vhost.h>

#include "vhost/socket_path.h"

namespace vmq::vhost {
namespace {

// rte_vhost's callbacks name a device by its socket path only.
std::mutex registry_lock;
std::map<std::string, VhostUserDevice*, std::less<>> registry;

VhostUserDevice* device_of(int vid) {
  char path[PATH_MAX] = {};
  if (rte_vhost_get_ifname(vid, path, sizeof path) != 0) return nullptr;
  std::lock_guard guard(registry_lock);
  auto it = registry.find(std::string_view(path));
  return it == registry.end() ? nullptr : it->second;
}

int on_new_device(int vid) {
  VhostUserDevice* device = device_of(vid);
  if (device == nullptr) return -1;
  device->attach(vid);
  return 0;
}

void on_destroy_device(int vid) {
  if (VhostUserDevice* device = device_of(vid)) device->detach(vid);
}

int on_features_changed(int vid, std::uint64_t features) {
  if (VhostUserDevice* device = device_of(vid)) device->features_changed(features);
  return 0;
}

const rte_vhost_device_ops kOps = {
    .new_device = on_new_device,
    .destroy_device = on_destroy_device,
    .vring_state_changed = nullptr,
    .features_changed = on_features_changed,
    .new_connection = nullptr,
    .destroy_connection = nullptr,
    .guest_notified = nullptr,
    .reserved = {nullptr},
};

// virtio-net feature bits (the virtio 1.1 spec, 5.1.3). Linux's
// <linux/virtio_net.h> cannot be included beside rte_vhost.h.
constexpr unsigned kCsum = 0, kGuestCsum = 1, kHostTso4 = 11, kHostTso6 = 12, kHostEcn = 13, kHostUfo = 14;

// The guest's transmit goes to the bridge through a tap without offloads:
// the guest sends complete checksums and no segmentation offloads.
constexpr std::uint64_t kDisabledFeatures =
    (1ULL << kCsum) | (1ULL << kHostTso4) | (1ULL << kHostTso6) | (1ULL << kHostEcn) | (1ULL << kHostUfo);

// A socket left at the path by a vmqd that stopped goes; one another process
// listens on, or anything that is not a socket, stays and is refused.
Result<void> replace_stale_socket(const std::string& path) {
  if (auto ok = check_listen_path(path); !ok) return ok;
  if (unlink(path.c_str()) != 0 && errno != ENOENT)
    return fail_errno(errno, fmt::format("removing the old socket {}", path));
  return {};
}

Result<gid_t> group_id(const std::string& name) {
  if (name.empty()) return getegid();
  std::vector<char> buffer(16384);
  group entry{};
  group* found = nullptr;
  const int err = getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (err != 0) return fail_errno(err, fmt::format("looking up group {}", name));
  if (found == nullptr) return fail(Errc::not_found, fmt::format("group {} does not exist", name));
  return found->gr_gid;
}

}  // namespace

Result<std::unique_ptr<VhostUserDevice>> VhostUserDevice::listen(const std::string& path, const SocketAccess& access,
                                                                 LogSink log) {
  std::unique_ptr<VhostUserDevice> device(new VhostUserDevice(path, std::move(log)));
  if (auto ok = device->start(access); !ok) return std::unexpected(ok.error());
  return device;
}

Result<void> VhostUserDevice::start(const SocketAccess& access) {
  auto gid = group_id(access.group);
  if (!gid) return std::unexpected(gid.error());
  if (auto ok = replace_stale_socket(path_); !ok) return ok;
  {
    std::lock_guard guard(registry_lock);
    if (!registry.emplace(path_, this).second)
      return fail(Errc::conflict, fmt::format("vhost-user socket {} is already in use", path_));
  }
  in_registry_ = true;
  if (rte_vhost_driver_register(path_.c_str(), 0) != 0)
    return fail(Errc::system, fmt::format("vhost-user socket {}: rte_vhost refused to register it", path_));
  driver_registered_ = true;
  if (rte_vhost_driver_disable_features(path_.c_str(), kDisabledFeatures) != 0 ||
      rte_vhost_driver_callback_register(path_.c_str(), &kOps) != 0)
    return fail(Errc::system, fmt::format("vhost-user socket {}: setting up rte_vhost failed", path_));
  if (rte_vhost_driver_start(path_.c_str()) != 0)
    return fail(Errc::system, fmt::format("vhost-user socket {}: cannot listen (see the dpdk lines in the log)", path_));
  if (chown(path_.c_str(), static_cast<uid_t>(-1), *gid) != 0 || chmod(path_.c_str(), access.mode) != 0)
    return fail_errno(errno, fmt::format("setting the owner and mode of vhost-user socket {}", path_));
  return {};
}

VhostUserDevice::~VhostUserDevice() {
  // rte_vhost calls destroy_device from here if a guest is connected; it may
  // refuse while its own thread is inside a callback of this socket.
  if (driver_registered_) {
    for (int tries = 0; tries < 1000 && rte_vhost_driver_unregister(path_.c_str()) != 0; ++tries)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    unlink(path_.c_str());
  }
  if (in_registry_) {
    std::lock_guard guard(registry_lock);
    registry.erase(path_);
  }
}

int VhostUserDevice::enter() {
  busy_.store(true, std::memory_order_seq_cst);
  const int vid = vid_.load(std::memory_order_seq_cst);
  if (vid < 0) busy_.store(false, std::memory_order_seq_cst);
  return vid;
}

void VhostUserDevice::attach(int vid) {
  std::uint64_t features = 0;
  rte_vhost_get_negotiated_features(vid, &features);
  guest_csum_.store((features & (1ULL << kGuestCsum)) != 0, std::memory_order_relaxed);
  vid_.store(vid, std::memory_order_seq_cst);
  if (log_)
    log_(LogLevel::notice, fmt::format("vhost-user socket {}: guest connected (device {}, features {:#x})", path_,
                                       vid, features));
}

void VhostUserDevice::detach(int vid) {
  if (vid_.load(std::memory_order_seq_cst) != vid) return;
  vid_.store(-1, std::memory_order_seq_cst);
  while (busy_.load(std::memory_order_seq_cst)) std::this_thread::yield();
  if (log_) log_(LogLevel::notice, fmt::format("vhost-user socket {}: guest disconnected (device {})", path_, vid));
}

void VhostUserDevice::features_changed(std::uint64_t features) {
  guest_csum_.store((features & (1ULL << kGuestCsum)) != 0, std::memory_order_relaxed);
}

}  // namespace vmq::vhost
