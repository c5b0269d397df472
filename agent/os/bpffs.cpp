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
  if (mkdir(kBpffsPath, 0700) != 0 && errno != EEXIST) return fail_errno(errno, "creating /sys/fs/bpf");
  if (mount("bpf", kBpffsPath, "bpf", 0, "mode=0700") != 0) return fail_errno(errno, "mounting bpffs on /sys/fs/bpf");
  return true;
}

}  // namespace vmq::os
