#include "os/bpffs.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <cerrno>

namespace vmq::os {
namespace {

constexpr const char* kBpffsPath = "/sys/fs/bpf";
constexpr long kBpffsMagic = 0xcafe4a11;

}  // namespace

Result<bool> ensure_bpffs() {
  struct statfs fs {};
  if (statfs(kBpffsPath, &fs) == 0 && fs.f_type == kBpffsMagic) return false;
  // Under vmqd.service this fails, as it should (read-only /sys, mount(2)
  // filtered): systemd mounts bpffs at boot, and a mount in the service's own
  // mount namespace would hide libxdp's pinned programs from other tools.
  if (mkdir(kBpffsPath, 0700) != 0 && errno != EEXIST)
    return fail_errno(errno, "bpffs is not mounted on /sys/fs/bpf, and creating that directory");
  if (mount("bpf", kBpffsPath, "bpf", 0, "mode=0700") != 0)
    return fail_errno(errno, "bpffs is not mounted on /sys/fs/bpf, and mounting it");
  return true;
}

}  // namespace vmq::os
