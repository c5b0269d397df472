// The hook's configuration, /etc/vmq/libvirt-hook.toml (deploy/libvirt-hook.toml
// documents every key): which interfaces get a queue, how to reach vmqd, and
// whether a failure may stop a domain from starting.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace vmq::libvirt_hook {

inline constexpr const char* kDefaultConfigPath = "/etc/vmq/libvirt-hook.toml";

// Which domains are considered at all.
enum class DomainSelection {
  all,     // every domain, unless its metadata says enabled='no'
  opt_in,  // only domains whose metadata says enabled='yes'
};

struct HookConfig {
  std::string socket_path = "/run/vmq/vmqd.sock";
  std::chrono::milliseconds timeout = std::chrono::seconds(10);  // per call to vmqd
  bool strict = false;
  DomainSelection domains = DomainSelection::all;
  std::map<std::string, std::string> bridges;  // host bridge -> vmq uplink
  std::optional<unsigned long> frames;         // queue size; vmqd's default when absent
};

// Parses the text of a configuration file; `origin` names it in errors.
Result<HookConfig> parse_hook_config(std::string_view text, std::string_view origin);
// A missing file is the default configuration, which selects nothing.
Result<HookConfig> load_hook_config(const std::string& path);

}  // namespace vmq::libvirt_hook
