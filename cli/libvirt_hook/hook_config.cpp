#include "libvirt_hook/hook_config.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "core/names.h"

namespace vmq::libvirt_hook {
namespace {

std::unexpected<Error> key_error(std::string_view origin, std::string_view key, std::string_view why) {
  return fail(Errc::invalid_argument, fmt::format("{}: key '{}': {}", origin, key, why));
}

const std::set<std::string_view> kKnownKeys = {"socket", "timeout_seconds", "strict", "domains", "frames", "bridges"};

Result<void> read_bridges(const toml::node& node, std::string_view origin, HookConfig& config) {
  const toml::table* table = node.as_table();
  if (!table) return key_error(origin, "bridges", "must be a table of bridge = \"uplink\"");
  for (const auto& [bridge, uplink] : *table) {
    const std::string key = fmt::format("bridges.{}", bridge.str());
    auto name = uplink.value<std::string>();
    if (!uplink.is_string() || !name) return key_error(origin, key, "must be a string: the uplink's name");
    if (auto ok = check_ifname(bridge.str(), "bridge"); !ok) return key_error(origin, key, ok.error().message);
    if (auto ok = check_ifname(*name, "uplink"); !ok) return key_error(origin, key, ok.error().message);
    config.bridges.emplace(std::string(bridge.str()), *name);
  }
  return {};
}

}  // namespace

Result<HookConfig> parse_hook_config(std::string_view text, std::string_view origin) {
  toml::table table;
  try {  // Debian's toml++ reports syntax errors by exception
    table = toml::parse(text, origin);
  } catch (const toml::parse_error& err) {
    return fail(Errc::invalid_argument, fmt::format("{}:{}:{}: {}", origin, err.source().begin.line,
                                                    err.source().begin.column, err.description()));
  }
  HookConfig config;
  for (const auto& [key, node] : table) {
    if (!kKnownKeys.contains(key.str()))
      return key_error(origin, key.str(), "unknown key (see deploy/libvirt-hook.toml for the known ones)");
  }
  if (const toml::node* node = table.get("socket")) {
    auto value = node->value<std::string>();
    if (!node->is_string() || !value || value->empty()) return key_error(origin, "socket", "must be a path");
    config.socket_path = *value;
  }
  if (const toml::node* node = table.get("timeout_seconds")) {
    auto value = node->value<double>();
    // Written so that NaN fails too.
    if (!(node->is_integer() || node->is_floating_point()) || !value || !(*value > 0 && *value <= 300))
      return key_error(origin, "timeout_seconds", "must be a number of seconds above 0 and at most 300");
    config.timeout = std::chrono::milliseconds(static_cast<long>(*value * 1000));
  }
  if (const toml::node* node = table.get("strict")) {
    auto value = node->value<bool>();
    if (!node->is_boolean() || !value) return key_error(origin, "strict", "must be true or false");
    config.strict = *value;
  }
  if (const toml::node* node = table.get("domains")) {
    auto value = node->value<std::string>();
    if (!node->is_string() || !value || (*value != "all" && *value != "opt-in"))
      return key_error(origin, "domains", "must be \"all\" or \"opt-in\"");
    config.domains = *value == "all" ? DomainSelection::all : DomainSelection::opt_in;
  }
  if (const toml::node* node = table.get("frames")) {
    auto value = node->value_exact<std::int64_t>();  // value<int64_t>() would convert a float, out of range included
    if (!value || *value < 1 || *value > UINT32_MAX)
      return key_error(origin, "frames", "must be a positive integer (vmqd checks its range)");
    config.frames = static_cast<unsigned long>(*value);
  }
  if (const toml::node* node = table.get("bridges")) {
    if (auto ok = read_bridges(*node, origin, config); !ok) return std::unexpected(ok.error());
  }
  return config;
}

Result<HookConfig> load_hook_config(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return HookConfig{};
  if (!std::filesystem::is_regular_file(path, ec))
    return fail(Errc::invalid_argument, fmt::format("{}: not a regular file", path));
  std::ifstream in(path);
  if (!in) return fail_errno(errno, fmt::format("reading {}", path));
  std::stringstream text;
  text << in.rdbuf();
  return parse_hook_config(text.str(), path);
}

}  // namespace vmq::libvirt_hook
