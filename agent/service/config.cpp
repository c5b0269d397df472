#include "service/config.h"

#include <charconv>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "core/attach_policy.h"
#include "core/cpu_list.h"
#include "core/names.h"
#include "service/metrics_listen_address.h"
#include "vmq/abi.h"

namespace vmq::service {
namespace {

Error key_error(const std::string& path, std::string_view key, std::string_view why) {
  return Error{Errc::invalid_argument, fmt::format("{}: key '{}': {}", path, key, why)};
}

struct Reader {
  const toml::table& table;
  const std::string& path;

  Result<void> string(std::string_view key, std::string& out) const {
    const toml::node* node = table.get(key);
    if (!node) return {};
    auto value = node->value_exact<std::string>();
    if (!value) return std::unexpected(key_error(path, key, "must be a string"));
    out = *value;
    return {};
  }

  Result<void> uint(std::string_view key, std::uint32_t& out, std::uint32_t min, std::uint32_t max) const {
    const toml::node* node = table.get(key);
    if (!node) return {};
    // Exactly an integer: value<int64_t>() would convert a float, out of range included.
    auto value = node->value_exact<std::int64_t>();
    if (!value) return std::unexpected(key_error(path, key, "must be an integer"));
    if (*value < min || *value > max)
      return std::unexpected(key_error(path, key, fmt::format("must be between {} and {} (got {})", min, max, *value)));
    out = static_cast<std::uint32_t>(*value);
    return {};
  }

  Result<void> boolean(std::string_view key, bool& out) const {
    const toml::node* node = table.get(key);
    if (!node) return {};
    auto value = node->value_exact<bool>();
    if (!value) return std::unexpected(key_error(path, key, "must be true or false"));
    out = *value;
    return {};
  }

  // A share of a CPU: a number from 0 to 1.
  Result<void> share(std::string_view key, double& out) const {
    const toml::node* node = table.get(key);
    if (!node) return {};
    if (!node->is_number()) return std::unexpected(key_error(path, key, "must be a number from 0 to 1"));
    const double value = node->value<double>().value_or(-1);
    if (!(value >= 0 && value <= 1))
      return std::unexpected(key_error(path, key, fmt::format("must be a number from 0 to 1 (got {})", value)));
    out = value;
    return {};
  }

  Result<void> string_list(std::string_view key, std::vector<std::string>& out) const {
    const toml::node* node = table.get(key);
    if (!node) return {};
    const toml::array* array = node->as_array();
    if (!array) return std::unexpected(key_error(path, key, "must be an array of strings"));
    out.clear();
    for (const auto& item : *array) {
      auto value = item.value_exact<std::string>();
      if (!value) return std::unexpected(key_error(path, key, "must be an array of strings"));
      out.push_back(*value);
    }
    return {};
  }
};

const std::set<std::string_view> kKnownKeys = {
    "uplinks",   "cpus",        "max_queues",   "max_filters", "umem_frames_per_rxq", "queue_frames",
    "xdp_attach", "socket",     "socket_group", "state_dir",   "log_level",           "host_id",
    "metrics_listen", "rebalance", "vhost_user_socket_group", "vhost_user_socket_mode",
    "vhost_user_bridge",
};

const std::set<std::string_view> kRebalanceKeys = {"enabled", "interval_ms", "high", "low", "sustain", "cooldown",
                                                   "pack"};

Result<void> read_rebalance(const toml::table& root, const std::string& path, RebalanceConfig& out) {
  const toml::node* node = root.get("rebalance");
  if (!node) return {};
  const toml::table* table = node->as_table();
  if (!table) return std::unexpected(key_error(path, "rebalance", "must be a table ([rebalance])"));
  for (const auto& [key, value] : *table) {
    if (!kRebalanceKeys.contains(key.str()))
      return std::unexpected(key_error(path, fmt::format("rebalance.{}", key.str()),
                                       "unknown key (see deploy/vmqd.toml for the known ones)"));
  }
  const std::string where = path + ": [rebalance]";
  const Reader r{*table, where};
  RebalancerSettings& p = out.policy;
  for (auto ok : {r.boolean("enabled", p.enabled), r.uint("interval_ms", out.interval_ms, 100, 60000),
                  r.share("high", p.high), r.share("low", p.low), r.uint("sustain", p.sustain, 1, 1000),
                  r.uint("cooldown", p.cooldown, 0, 100000), r.boolean("pack", p.pack)}) {
    if (!ok) return ok;
  }
  return {};
}

bool is_power_of_two(std::uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace

Result<LogLevel> parse_log_level(std::string_view text) {
  if (text == "error") return LogLevel::error;
  if (text == "warning") return LogLevel::warning;
  if (text == "notice") return LogLevel::notice;
  if (text == "info") return LogLevel::info;
  if (text == "debug") return LogLevel::debug;
  return fail(Errc::invalid_argument,
              fmt::format("invalid log level '{}' (expected error, warning, notice, info or debug)", text));
}

Result<unsigned> parse_socket_mode(std::string_view text) {
  unsigned mode = 0;
  const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), mode, 8);
  if (err != std::errc() || end != text.data() + text.size() || mode > 0777)
    return fail(Errc::invalid_argument, fmt::format("'{}' is not an octal mode such as \"0660\"", text));
  if ((mode & 0007) != 0)
    return fail(Errc::invalid_argument,
                fmt::format("'{}' lets every user connect; only the socket's owner and group may (such as \"0660\")", text));
  return mode;
}

Result<AgentConfig> load_config(const std::string& path, bool required) {
  AgentConfig config;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (required) return fail(Errc::not_found, fmt::format("{}: no such configuration file", path));
    return config;
  }
  if (path == "/dev/null") return config;  // the usual way to say "no file"
  if (!std::filesystem::is_regular_file(path, ec))
    return fail(Errc::invalid_argument, fmt::format("{}: not a regular file", path));
  toml::table table;
  try {  // Debian's toml++ is built to report syntax errors by exception
    table = toml::parse_file(path);
  } catch (const toml::parse_error& err) {
    return fail(Errc::invalid_argument, fmt::format("{}:{}:{}: {}", path, err.source().begin.line,
                                                    err.source().begin.column, err.description()));
  }
  for (const auto& [key, node] : table) {
    if (!kKnownKeys.contains(key.str()))
      return std::unexpected(key_error(path, key.str(), "unknown key (see deploy/vmqd.toml for the known ones)"));
  }
  const Reader r{table, path};
  std::string cpus, log_level, vhost_mode;
  for (auto ok : {r.string_list("uplinks", config.uplinks), r.string("cpus", cpus),
                  r.uint("max_queues", config.max_queues, 1, VMQ_MAX_QUEUES_LIMIT - 1),
                  r.uint("max_filters", config.max_filters, 1, VMQ_MAX_FILTERS_LIMIT),
                  r.uint("umem_frames_per_rxq", config.umem_frames_per_rxq, 64, 1u << 20),
                  r.uint("queue_frames", config.queue_frames, 64, 4096), r.string("xdp_attach", config.xdp_attach),
                  r.string("socket", config.socket_path), r.string("socket_group", config.socket_group),
                  r.string("state_dir", config.state_dir), r.string("log_level", log_level),
                  r.string("host_id", config.host_id), r.string("metrics_listen", config.metrics_listen),
                  r.string("vhost_user_socket_group", config.vhost_user_socket_group),
                  r.string("vhost_user_socket_mode", vhost_mode),
                  r.string("vhost_user_bridge", config.vhost_user_bridge)}) {
    if (!ok) return std::unexpected(ok.error());
  }
  if (auto ok = read_rebalance(table, path, config.rebalance); !ok) return std::unexpected(ok.error());
  if (!cpus.empty()) {
    auto parsed_cpus = parse_cpu_list(cpus);
    if (!parsed_cpus) return std::unexpected(key_error(path, "cpus", parsed_cpus.error().message));
    config.cpus = *parsed_cpus;
  }
  if (!log_level.empty()) {
    auto level = parse_log_level(log_level);
    if (!level) return std::unexpected(key_error(path, "log_level", level.error().message));
    config.log_level = *level;
  }
  if (!vhost_mode.empty()) {
    auto mode = parse_socket_mode(vhost_mode);
    if (!mode) return std::unexpected(key_error(path, "vhost_user_socket_mode", mode.error().message));
    config.vhost_user_socket_mode = *mode;
  }
  if (auto ok = validate(config); !ok) return fail(ok.error().code, fmt::format("{}: {}", path, ok.error().message));
  return config;
}

Result<void> validate(const AgentConfig& c) {
  auto invalid = [](std::string_view key, std::string why) {
    return fail(Errc::invalid_argument, fmt::format("key '{}': {}", key, why));
  };
  std::set<std::string> seen;
  for (const auto& uplink : c.uplinks) {
    if (auto ok = check_ifname(uplink, "uplink"); !ok) return invalid("uplinks", ok.error().message);
    if (!seen.insert(uplink).second) return invalid("uplinks", fmt::format("{} is listed twice", uplink));
  }
  if (!is_power_of_two(c.umem_frames_per_rxq))
    return invalid("umem_frames_per_rxq", fmt::format("must be a power of two (got {})", c.umem_frames_per_rxq));
  if (c.queue_frames > c.umem_frames_per_rxq)
    return invalid("queue_frames", fmt::format("must not exceed umem_frames_per_rxq ({})", c.umem_frames_per_rxq));
  if (c.max_filters < c.max_queues)
    return invalid("max_filters", fmt::format("must be at least max_queues ({}): every queue needs a filter",
                                              c.max_queues));
  if (auto ok = parse_attach_policy(c.xdp_attach); !ok) return invalid("xdp_attach", ok.error().message);
  if (c.socket_path.empty() || c.socket_path.front() != '/' || c.socket_path.size() >= 108)
    return invalid("socket", "must be an absolute path shorter than 108 characters");
  if (c.state_dir.empty() || c.state_dir.front() != '/') return invalid("state_dir", "must be an absolute path");
  if (!c.vhost_user_bridge.empty()) {
    if (auto ok = check_ifname(c.vhost_user_bridge, "bridge"); !ok) return invalid("vhost_user_bridge", ok.error().message);
  }
  if (!c.metrics_listen.empty()) {
    if (auto endpoint = parse_listen_address(c.metrics_listen); !endpoint)
      return invalid("metrics_listen", endpoint.error().message + "; \"\" turns /metrics off");
  }
  if (auto ok = c.rebalance.policy.check(); !ok) return invalid("rebalance", ok.error().message);
  return {};
}

}  // namespace vmq::service
