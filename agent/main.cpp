// vmqd: the vmq agent. Reads its configuration, attaches the classifier to
// the uplinks, restores the saved queues and serves the control socket.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>

#include "os/netdev.h"
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
  std::optional<std::string> xdp_attach, socket, socket_group, state_dir, log_level, host_id;

  vmq::Result<AgentConfig> apply() const {
    auto config = vmq::service::load_config(config_path, config_given);
    if (!config) return config;
    AgentConfig& c = *config;
    if (!uplinks.empty()) c.uplinks = uplinks;
    if (cpus) {
      auto parsed = vmq::os::parse_cpu_list(*cpus);
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
    if (log_level) {
      auto level = vmq::service::parse_log_level(*log_level);
      if (!level) return std::unexpected(level.error());
      c.log_level = *level;
    }
    if (auto ok = vmq::service::validate(c); !ok) return std::unexpected(ok.error());
    return config;
  }
};

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
  app.add_flag("--check-config", check_only, "Validate the configuration and exit");
  app.footer("Signals: SIGTERM/SIGINT stop (queues drained to the default path, classifier detached);\n"
             "SIGHUP reloads log_level, cpus and socket_group.\n"
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
  auto daemon = vmq::service::Daemon::start([&o] { return o.apply(); }, logger);
  if (!daemon) {
    logger.log(vmq::LogLevel::error, daemon.error().message);
    return daemon.error().code == vmq::Errc::invalid_argument ? 2 : 1;
  }
  (*daemon)->run();
  return 0;
}
