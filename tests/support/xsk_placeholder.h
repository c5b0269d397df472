// An unbound AF_XDP socket. The kernel accepts one in an XSKMAP slot, which
// makes bpf_redirect_map() succeed for that slot under BPF_PROG_TEST_RUN.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <utility>

#ifndef AF_XDP
#define AF_XDP 44
#endif

namespace vmq::test {

class XskPlaceholder {
 public:
  XskPlaceholder() : fd_(::socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0)) {}
  XskPlaceholder(XskPlaceholder&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  XskPlaceholder& operator=(XskPlaceholder&&) = delete;
  ~XskPlaceholder() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

}  // namespace vmq::test
