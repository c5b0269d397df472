// Checks the capabilities a test tier needs, so a test can skip with a reason.
#pragma once

#include <string>

namespace vmq::test {

// True when the effective capability set holds `cap` (a CAP_* number).
bool has_capability(int cap);

// Empty when BPF programs and maps can be loaded; otherwise why not.
std::string why_no_bpf();

// Empty when network namespaces and AF_XDP sockets can be created.
std::string why_no_netadmin();

}  // namespace vmq::test

// Skips the current test when BPF is unavailable.
#define VMQ_REQUIRE_BPF()                                            \
  do {                                                               \
    if (auto why = ::vmq::test::why_no_bpf(); !why.empty())          \
      GTEST_SKIP() << why;                                           \
  } while (0)
