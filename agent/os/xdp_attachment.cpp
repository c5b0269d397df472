#include "os/xdp_attachment.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <linux/if_link.h>
#include <xdp/libxdp.h>

#include <cstdarg>
#include <mutex>
#include <utility>

#include "os/classifier.h"
#include "os/netdev.h"

namespace vmq::os {
namespace {

// The classifier's two builds (single- and multi-buffer frames).
bool is_vmq_program(std::string_view name) { return name == "vmq_classify" || name == "vmq_classify_mb"; }

const char* mode_name(int mode) { return mode == XDP_MODE_SKB ? "generic" : "native"; }

std::string xdp_error(int err) {
  char buf[256] = {};
  libxdp_strerror(err, buf, sizeof buf);
  return buf;
}

// Ids of what is attached to the device in `mode`, from the kernel.
Result<std::uint32_t> attached_program_id(int ifindex, int mode) {
  LIBBPF_OPTS(bpf_xdp_query_opts, opts);
  if (int err = bpf_xdp_query(ifindex, 0, &opts)) return fail_errno(-err, "querying the device's XDP programs");
  return mode == XDP_MODE_SKB ? opts.skb_prog_id : opts.drv_prog_id;
}

struct MultiprogDeleter {
  void operator()(xdp_multiprog* mp) const { xdp_multiprog__close(mp); }
};
using MultiprogPtr = std::unique_ptr<xdp_multiprog, MultiprogDeleter>;

MultiprogPtr multiprog_of(int ifindex) {
  xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(ifindex);
  if (libxdp_get_error(mp)) return nullptr;
  return MultiprogPtr(mp);
}

// What is attached to the device, or nullptr when nothing is. libxdp reads
// attached programs by id (CAP_SYS_ADMIN): a program it cannot read is an
// error, never taken for an empty device.
Result<MultiprogPtr> inspect_attached(int ifindex, const std::string& ifname) {
  xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(ifindex);
  if (long err = libxdp_get_error(mp); err == 0) return MultiprogPtr(mp);
  else {
    LIBBPF_OPTS(bpf_xdp_query_opts, opts);
    if (int query_err = bpf_xdp_query(ifindex, 0, &opts))
      return fail_errno(-query_err, fmt::format("uplink {}: querying the device's XDP programs", ifname));
    if (opts.attach_mode == XDP_ATTACHED_NONE) return MultiprogPtr{};
    return fail_errno(static_cast<int>(-err),
                      fmt::format("uplink {}: an XDP program is attached and libxdp cannot inspect it", ifname));
  }
}

std::mutex g_log_mutex;
LogSink g_log_sink;

int forward_log(LogLevel level, const char* format, va_list args) {
  char buf[512];
  int n = std::vsnprintf(buf, sizeof buf, format, args);
  std::string_view text(buf, n < 0 ? 0 : std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1));
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  std::lock_guard lock(g_log_mutex);
  if (g_log_sink && !text.empty()) g_log_sink(level, text);
  return n;
}

LogLevel level_of(int libbpf_level) {
  switch (libbpf_level) {
    case LIBBPF_WARN: return LogLevel::warning;
    case LIBBPF_INFO: return LogLevel::info;
    default: return LogLevel::debug;
  }
}

int libbpf_log(enum libbpf_print_level level, const char* format, va_list args) {
  return forward_log(level_of(level), format, args);
}

int libxdp_log(enum libxdp_print_level level, const char* format, va_list args) {
  return forward_log(level_of(level), format, args);
}

}  // namespace

void route_library_logs(LogSink sink) {
  {
    std::lock_guard lock(g_log_mutex);
    g_log_sink = std::move(sink);
  }
  libbpf_set_print(libbpf_log);
  libxdp_set_print(libxdp_log);
}

Result<XdpAttachment> XdpAttachment::attach(Classifier& classifier, const std::string& ifname, AttachPolicy policy,
                                            const LogSink& log, bool generic_fallback) {
  auto ifindex = ifindex_of(ifname);
  if (!ifindex) return std::unexpected(ifindex.error());
  XdpAttachment attachment(ifname, *ifindex);
  if (auto ok = attachment.refuse_foreign_program(log); !ok) return std::unexpected(ok.error());

  DECLARE_LIBXDP_OPTS(xdp_program_opts, opts, .obj = classifier.object(),
                     .prog_name = bpf_program__name(classifier.program()));
  attachment.program_ = xdp_program__create(&opts);
  if (long err = libxdp_get_error(attachment.program_)) {
    attachment.program_ = nullptr;
    return fail_errno(static_cast<int>(-err), "preparing the classifier for libxdp");
  }
  // A multi-buffer classifier keeps a jumbo-MTU uplink usable (its program
  // reads only the linear part and asks the kernel for the length).
  xdp_program__set_xdp_frags_support(attachment.program_, classifier.limits().multi_buffer);
  auto native = attachment.attach_in_mode(classifier, XDP_MODE_NATIVE, policy, log);
  if (!native && !generic_fallback) return std::unexpected(native.error());
  if (!native) {
    log(LogLevel::warning, fmt::format("uplink {}: native XDP failed ({}); falling back to generic (skb) mode, "
                                       "which is slower",
                                       ifname, native.error().message));
    if (auto generic = attachment.attach_in_mode(classifier, XDP_MODE_SKB, policy, log); !generic)
      return fail(generic.error().code, fmt::format("uplink {}: cannot attach the classifier: native: {}; generic: {}",
                                                    ifname, native.error().message, generic.error().message));
  }
  return attachment;
}

Result<void> XdpAttachment::refuse_foreign_program(const LogSink& log) const {
  auto inspected = inspect_attached(ifindex_, ifname_);
  if (!inspected) return std::unexpected(inspected.error());
  MultiprogPtr mp = std::move(*inspected);
  if (!mp) return {};  // nothing attached
  if (!xdp_multiprog__is_legacy(mp.get())) {
    // A libxdp dispatcher: we join it, after removing what a previous vmqd
    // that died may have left there.
    const auto mode = xdp_multiprog__attach_mode(mp.get());
    for (xdp_program* p = xdp_multiprog__next_prog(nullptr, mp.get()); p; p = xdp_multiprog__next_prog(p, mp.get())) {
      if (!is_vmq_program(xdp_program__name(p))) continue;
      log(LogLevel::notice, fmt::format("uplink {}: removing the classifier (program {}) a previous vmqd left in "
                                        "the dispatcher",
                                        ifname_, xdp_program__id(p)));
      if (int err = xdp_program__detach(p, ifindex_, mode, 0))
        return fail_errno(-err, fmt::format("uplink {}: removing a stale vmq classifier", ifname_));
    }
    return {};
  }
  xdp_program* main = xdp_multiprog__main_prog(mp.get());
  if (!main) return {};
  const std::string name = xdp_program__name(main);
  const std::uint32_t id = xdp_program__id(main);
  if (is_vmq_program(name)) {
    // Left attached over netlink by a vmqd that was killed: ours to replace.
    log(LogLevel::notice, fmt::format("uplink {}: replacing the classifier (program {}) a previous vmqd left "
                                      "attached",
                                      ifname_, id));
    if (int err = xdp_multiprog__detach(mp.get()))
      return fail(Errc::conflict,
                  fmt::format("uplink {}: a vmq classifier (program {}) is attached and cannot be replaced ({}): is "
                              "another vmqd managing this device?",
                              ifname_, id, xdp_error(err)));
    return {};
  }
  return fail(Errc::conflict,
              fmt::format("uplink {}: XDP program '{}' (id {}) is already attached and was not loaded through "
                          "libxdp's dispatcher; vmqd does not replace programs it does not own. Detach it "
                          "(xdp-loader unload {} --all, or ip link set dev {} xdp off), or load it with xdp-loader "
                          "so that both programs can share the device, then restart vmqd",
                          ifname_, name, id, ifname_, ifname_));
}

Result<void> XdpAttachment::attach_in_mode(Classifier& classifier, int mode, AttachPolicy policy,
                                           const LogSink& log) {
  const auto xdp_mode = static_cast<xdp_attach_mode>(mode);
  if (int err = xdp_program__attach(program_, ifindex_, xdp_mode, 0))
    return fail_errno(-err, fmt::format("libxdp: {}", xdp_error(err)));
  mode_ = mode;
  program_id_ = xdp_program__id(program_);
  MultiprogPtr mp = multiprog_of(ifindex_);
  if (mp && !xdp_multiprog__is_legacy(mp.get())) {
    method_ = Method::dispatcher;
    return {};
  }
  if (policy == AttachPolicy::netlink) {
    method_ = Method::netlink;
    return {};
  }
  // libxdp fell back to a single program over netlink. Move it to a
  // bpf_link so that no other tool can replace it without us noticing: the
  // device runs no program for the few microseconds in between, so its
  // frames take the default path, which is what the classifier does anyway
  // before any queue exists.
  if (auto ok = detach_direct(); !ok) return ok;
  LIBBPF_OPTS(bpf_link_create_opts, link_opts);
  link_opts.flags = mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
  const int link_fd = bpf_link_create(classifier.program_fd(), ifindex_, BPF_XDP, &link_opts);
  if (link_fd < 0) return fail_errno(-link_fd, "attaching the classifier as a bpf_link");
  link_.reset(link_fd);
  method_ = Method::link;
  program_id_ = xdp_program__id(program_);
  log(LogLevel::info, fmt::format("uplink {}: libxdp's dispatcher is not available here; the classifier is "
                                  "attached alone, through a bpf_link",
                                  ifname_));
  return {};
}

XdpAttachment::XdpAttachment(XdpAttachment&& other) noexcept
    : ifname_(std::move(other.ifname_)),
      ifindex_(other.ifindex_),
      method_(other.method_),
      mode_(other.mode_),
      program_(std::exchange(other.program_, nullptr)),
      link_(std::move(other.link_)),
      program_id_(std::exchange(other.program_id_, 0)) {}

// A program attached directly (not in libxdp's dispatcher) is detached over
// netlink naming the program expected there, so one that replaced ours stays;
// this needs CAP_NET_ADMIN only, where libxdp's detach reads programs by id.
Result<void> XdpAttachment::detach_direct() {
  LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = xdp_program__fd(program_));
  const std::uint32_t flags = mode_ == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
  if (int err = bpf_xdp_detach(ifindex_, flags, &opts))
    return fail_errno(-err, fmt::format("detaching the classifier from {}", ifname_));
  program_id_ = 0;
  return {};
}

XdpAttachment::~XdpAttachment() {
  if (!program_) return;
  // A bpf_link detaches when its fd closes; libxdp removes ours from its
  // dispatcher, leaving the others.
  if (method_ == Method::dispatcher && program_id_ != 0 && check())
    xdp_program__detach(program_, ifindex_, static_cast<xdp_attach_mode>(mode_), 0);
  else if (method_ == Method::netlink && program_id_ != 0)
    // A destructor has no one to tell; a classifier left behind is found and
    // replaced by the next vmqd's attach (refuse_foreign_program).
    (void)detach_direct();
  link_.reset();
  xdp_program__close(program_);
}

const char* XdpAttachment::method() const {
  switch (method_) {
    case Method::dispatcher: return "libxdp-dispatcher";
    case Method::link: return "bpf-link";
    case Method::netlink: return "netlink";
  }
  return "unknown";
}

const char* XdpAttachment::mode() const { return mode_name(mode_); }

Result<void> XdpAttachment::check() const {
  if (method_ == Method::dispatcher) {
    MultiprogPtr mp = multiprog_of(ifindex_);
    if (!mp || xdp_multiprog__is_legacy(mp.get()))
      return fail(Errc::invalid_state, fmt::format("libxdp's dispatcher is no longer attached to {}", ifname_));
    for (xdp_program* p = xdp_multiprog__next_prog(nullptr, mp.get()); p; p = xdp_multiprog__next_prog(p, mp.get()))
      if (xdp_program__id(p) == program_id_) return {};
    return fail(Errc::invalid_state, fmt::format("the classifier (program {}) is no longer in the dispatcher of {}",
                                                 program_id_, ifname_));
  }
  auto attached = attached_program_id(ifindex_, mode_);
  if (!attached)
    return fail(attached.error().code, fmt::format("cannot query {}: {}", ifname_, attached.error().message));
  if (*attached == program_id_) return {};
  if (*attached == 0)
    return fail(Errc::invalid_state,
                fmt::format("the classifier (program {}) was detached from {}: every frame takes the default path",
                            program_id_, ifname_));
  return fail(Errc::invalid_state,
              fmt::format("XDP program {} replaced the classifier (program {}) on {}: vmq queues receive nothing",
                          *attached, program_id_, ifname_));
}

}  // namespace vmq::os
