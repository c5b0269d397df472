// Attaches a classifier to an uplink and keeps it attached.
//
// The program joins libxdp's multi-program dispatcher when the kernel allows
// it. When it does not (libxdp then falls back to attaching the program
// alone over netlink, where any tool could replace it silently), the
// attachment becomes a bpf_link, which the kernel refuses to let other tools
// replace. A foreign program already on the device is never replaced.
#pragma once

#include <cstdint>
#include <string>

#include "base/unique_fd.h"
#include "core/attach_policy.h"
#include "core/error.h"
#include "core/log.h"

struct xdp_program;

namespace vmq::os {

class Classifier;

class XdpAttachment {
 public:
  // Loads `classifier` (opened, not yet loaded) and attaches it to `ifname`,
  // in native mode or, failing that and if `generic_fallback`, generic mode
  // (with a warning).
  static Result<XdpAttachment> attach(Classifier& classifier, const std::string& ifname, AttachPolicy policy,
                                      const LogSink& log, bool generic_fallback = true);

  XdpAttachment(XdpAttachment&& other) noexcept;
  XdpAttachment& operator=(XdpAttachment&&) = delete;
  XdpAttachment(const XdpAttachment&) = delete;
  ~XdpAttachment();  // detaches, if the program is still ours

  const char* method() const;  // "libxdp-dispatcher", "bpf-link" or "netlink"
  const char* mode() const;    // "native" or "generic"
  std::uint32_t program_id() const { return program_id_; }
  // Fine while the device still runs our program; otherwise what happened.
  Result<void> check() const;

 private:
  enum class Method { dispatcher, link, netlink };
  XdpAttachment(std::string ifname, int ifindex) : ifname_(std::move(ifname)), ifindex_(ifindex) {}
  Result<void> refuse_foreign_program(const LogSink& log) const;
  Result<void> attach_in_mode(Classifier& classifier, int mode, AttachPolicy policy, const LogSink& log);
  Result<void> detach_direct();

  std::string ifname_;
  int ifindex_;
  Method method_ = Method::netlink;
  int mode_ = 0;                  // enum xdp_attach_mode
  xdp_program* program_ = nullptr;  // libxdp's handle (dispatcher and netlink)
  UniqueFd link_;  // the bpf_link, when method_ is link
  std::uint32_t program_id_ = 0;
};

// Routes libbpf's and libxdp's diagnostics to `sink` (process-wide).
void route_library_logs(LogSink sink);

}  // namespace vmq::os
