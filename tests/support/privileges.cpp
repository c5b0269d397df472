#include "support/privileges.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

namespace vmq::test {

bool has_capability(int cap) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  const auto word = static_cast<unsigned>(cap) / 32;
  const auto bit = 1u << (static_cast<unsigned>(cap) % 32);
  return (data[word].effective & bit) != 0;
}

std::string why_no_bpf() {
  if (has_capability(CAP_BPF) || has_capability(CAP_SYS_ADMIN)) return {};
  return "needs CAP_BPF (or CAP_SYS_ADMIN) to load BPF programs: run as root";
}

std::string why_no_netadmin() {
  if (has_capability(CAP_NET_ADMIN) && has_capability(CAP_NET_RAW) && has_capability(CAP_SYS_ADMIN)) return {};
  return "needs root (CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_ADMIN) for network namespaces and AF_XDP";
}

}  // namespace vmq::test
