// vmqd: the vmq agent. Reads its configuration, attaches the classifier to
// the uplinks, restores the saved queues and serves the control socket.
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>

#include <fmt/format.h>

#include "core/cpu_list.h"
#include "service/config.h"
#include "service/daemon.h"
#include "service/logger.h"

namespace {

using vmq::service::AgentConfig;

// The flags an operator gave; each overrides the configuration file's key.
struct Overrides {
  std::string config_path = vmq::service::kDefaultConfigPath;
  bool config_given = false;
  std::vector<std::string> uplinks;
  std::optional<std::string> cpus;
  std::optional<std::uint32_t> max_queues, max_filters, umem_frames, queue_frames;
  std::optional<std::string> xdp_attach, socket, socket_group, state_dir, log_level, host_id, metrics_listen;

  vmq::Result<AgentConfig> apply() const {
    auto config = vmq::service::load_config(config_path, config_given);
    if (!config) return config;
    AgentConfig& c = *config;
    if (!uplinks.empty()) c.uplinks = uplinks;
    if (cpus) {
      auto parsed = vmq::parse_cpu_list(*cpus);
      if (!parsed) return std::unexpected(vmq::Error{vmq::Errc::invalid_argument, "--cpus: " + parsed.error().message});
      c.cpus = *parsed;
    }
    if (max_queues) c.max_queues = *max_queues;
    if (max_filters) c.max_filters = *max_filters;
    if (umem_frames) c.umem_frames_per_rxq = *umem_frames;
    if (queue_frames) c.queue_frames = *queue_frames;
    if (xdp_attach) c.xdp_attach = *xdp_attach;
    if (socket) c.socket_path = *socket;
    if (socket_group) c.socket_group = *socket_group;
    if (state_dir) c.state_dir = *state_dir;
    if (host_id) c.host_id = *host_id;
    if (metrics_listen) c.metrics_listen = *metrics_listen;
    if (log_level) {
      auto level = vmq::service::parse_log_level(*log_level);
      if (!level) return std::unexpected(level.error());
      c.log_level = *level;
    }
    if (auto ok = vmq::service::validate(c); !ok) return std::unexpected(ok.error());
    return config;
  }
};

// The capabilities vmqd fails without (vmqd.service grants exactly these and
// CAP_IPC_LOCK). CAP_SYS_ADMIN includes CAP_BPF's and CAP_PERFMON's rights;
// CAP_BPF alone would not do, as libxdp opens programs by id.
struct NeededCapability {
  int number;
  const char* name;
  const char* use;
};
constexpr NeededCapability kNeededCapabilities[] = {
    {CAP_SYS_ADMIN, "CAP_SYS_ADMIN", "BPF programs and maps; libxdp opens a device's XDP programs by id"},
    {CAP_NET_ADMIN, "CAP_NET_ADMIN", "attaching XDP programs"},
    {CAP_NET_RAW, "CAP_NET_RAW", "AF_XDP sockets"},
};

bool has_capability(int number) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0) return true;  // cannot tell: the kernel will
  return (data[number / 32].effective & (1u << (number % 32))) != 0;
}

// Names what vmqd lacks before the kernel answers a bare EPERM (or ENOBUFS
// for locked memory). Only a warning: the kernel has the last word.
void warn_about_privileges(vmq::service::Logger& logger) {
  for (const auto& cap : kNeededCapabilities) {
    if (!has_capability(cap.number))
      logger.log(vmq::LogLevel::warning,
                 fmt::format("missing capability {} ({}): vmqd will fail where it needs it; run it as root or "
                             "through vmqd.service, which grants it",
                             cap.name, cap.use));
  }
  rlimit memlock{};
  if (!has_capability(CAP_IPC_LOCK) && getrlimit(RLIMIT_MEMLOCK, &memlock) == 0 && memlock.rlim_cur != RLIM_INFINITY)
    logger.log(vmq::LogLevel::warning,
               fmt::format("missing capability CAP_IPC_LOCK: each uplink's UMEM (umem_frames_per_rxq x 4 KiB per rx "
                           "queue) must fit the locked-memory limit, {} KiB",
                           memlock.rlim_cur / 1024));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vmqd: Virtual Machine Queues for Linux/KVM hosts (the agent).\n"
               "Classifies received frames by destination MAC and VLAN into per-VM AF_XDP queues; vmqctl drives it.",
               "vmqd"};
  Overrides o;
  bool check_only = false;
  app.set_version_flag("--version", std::string("vmqd ") + VMQ_VERSION);
  app.add_option("-c,--config", o.config_path, "Configuration file (TOML)")->default_str(o.config_path);
  app.add_option("--uplink", o.uplinks, "Uplink to classify on (repeatable; replaces 'uplinks')");
  app.add_option("--cpus", o.cpus, "CPUs the queue workers may use, e.g. 1-3,6 (default: all online)");
  app.add_option("--max-queues", o.max_queues, "Most VM queues (the default queue excluded)")->check(CLI::Range(1, 4095));
  app.add_option("--max-filters", o.max_filters, "Most filters across all queues")->check(CLI::Range(1, 65536));
  app.add_option("--umem-frames", o.umem_frames, "UMEM frames per uplink rx queue (a power of two)");
  app.add_option("--queue-frames", o.queue_frames, "Frames of a queue when vmqctl gives none")->check(CLI::Range(64, 4096));
  app.add_option("--xdp-attach", o.xdp_attach,
                 "auto: libxdp's dispatcher, else a bpf_link; netlink: the dispatcher, else netlink")
      ->check(CLI::IsMember({"auto", "netlink"}));
  app.add_option("--socket", o.socket, "Control socket path (default /run/vmq/vmqd.sock)");
  app.add_option("--socket-group", o.socket_group, "Group whose members may use the control socket (default vmq)");
  app.add_option("--state-dir", o.state_dir, "Where queues and filters are saved (default /var/lib/vmq)");
  app.add_option("--log-level", o.log_level, "error, warning, notice, info or debug")
      ->check(CLI::IsMember({"error", "warning", "notice", "info", "debug"}));
  app.add_option("--host-id", o.host_id, "This host's name in migration documents (default: the host name)");
  app.add_option("--metrics-listen", o.metrics_listen,
                 "Serve Prometheus metrics on ADDRESS:PORT, e.g. 127.0.0.1:8497 (default: off; \"\" turns it off)");
  app.add_flag("--check-config", check_only, "Validate the configuration and exit");
  app.footer("Signals: SIGTERM/SIGINT stop (queues drained to the default path, classifier detached);\n"
             "SIGHUP reloads log_level, cpus, socket_group and metrics_listen.\n"
             "Exit status: 0 stopped cleanly, 1 failed at run time, 2 invalid command line or configuration.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  o.config_given = app.count("--config") > 0;

  vmq::service::Logger logger;
  if (check_only) {
    auto config = o.apply();
    if (!config) {
      std::fprintf(stderr, "vmqd: %s\n", config.error().message.c_str());
      return 2;
    }
    std::printf("vmqd: configuration is valid\n");
    return 0;
  }
  warn_about_privileges(logger);
  auto daemon = vmq::service::Daemon::start([&o] { return o.apply(); }, logger);
  if (!daemon) {
    logger.log(vmq::LogLevel::error, daemon.error().message);
    return daemon.error().code == vmq::Errc::invalid_argument ? 2 : 1;
  }
  (*daemon)->run();
  return 0;
}
