// vmqd's configuration: a TOML file (default /etc/vmq/vmqd.toml), every key
// of which a command-line flag can override. Invalid input is refused with
// the file, the key and the reason.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/log.h"
#include "core/rebalancer.h"

namespace vmq::service {

inline constexpr const char* kDefaultConfigPath = "/etc/vmq/vmqd.toml";

// [rebalance]: Dynamic VMQ (docs/rebalancing.md).
struct RebalanceConfig {
  RebalancerSettings policy;
  std::uint32_t interval_ms = 1000;  // one round per interval

  bool operator==(const RebalanceConfig&) const = default;
};

struct AgentConfig {
  std::vector<std::string> uplinks;
  std::set<unsigned> cpus;  // the CPUs workers may use; empty: every online CPU
  std::uint32_t max_queues = 64;
  std::uint32_t max_filters = 1024;
  std::uint32_t umem_frames_per_rxq = 4096;
  std::uint32_t queue_frames = 512;  // a queue's frames when not given
  std::string xdp_attach = "auto";
  std::string socket_path = "/run/vmq/vmqd.sock";
  std::string socket_group = "vmq";
  std::string state_dir = "/var/lib/vmq";
  LogLevel log_level = LogLevel::info;
  std::string host_id;  // names this host in migration documents; default: the host name
  std::string metrics_listen;  // "ADDRESS:PORT" serving /metrics; empty: off
  // Who may connect to a vhost-user port's socket (QEMU's user: under
  // libvirt, its group); the owner is vmqd's user.
  std::string vhost_user_socket_group;  // empty: vmqd's group
  unsigned vhost_user_socket_mode = 0660;
  // The bridge a vhost-user VM's leg joins (its broadcast, multicast and
  // unmatched traffic, and its transmit); empty: no leg.
  std::string vhost_user_bridge;
  RebalanceConfig rebalance;
};

// Reads `path` over the defaults. A missing file is an error only when
// `required` (the operator named it).
// An octal file mode for a socket ("0660"); refuses modes that let other users connect.
Result<unsigned> parse_socket_mode(std::string_view text);
Result<AgentConfig> load_config(const std::string& path, bool required);
// Checks values that do not depend on the file format (flags included).
Result<void> validate(const AgentConfig& config);

Result<LogLevel> parse_log_level(std::string_view text);

}  // namespace vmq::service
