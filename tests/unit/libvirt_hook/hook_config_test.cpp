#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "libvirt_hook/hook_config.h"

namespace vmq::libvirt_hook {
namespace {

std::string error_of(const std::string& text) {
  auto config = parse_hook_config(text, "hook.toml");
  EXPECT_FALSE(config) << "accepted: " << text;
  return config ? "" : config.error().message;
}

TEST(HookConfig, DefaultsSelectNothingAndAreNotStrict) {
  auto config = parse_hook_config("", "hook.toml");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->socket_path, "/run/vmq/vmqd.sock");
  EXPECT_EQ(config->timeout, std::chrono::seconds(10));
  EXPECT_FALSE(config->strict);
  EXPECT_EQ(config->domains, DomainSelection::all);
  EXPECT_TRUE(config->bridges.empty());
  EXPECT_FALSE(config->frames);
}

TEST(HookConfig, ReadsEveryKey) {
  auto config = parse_hook_config(R"(
socket = "/tmp/vmqd.sock"
timeout_seconds = 2.5
strict = true
domains = "opt-in"
frames = 1024
[bridges]
br0 = "eth0"
"ovs-br1" = "eth1"
)",
                                  "hook.toml");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->socket_path, "/tmp/vmqd.sock");
  EXPECT_EQ(config->timeout, std::chrono::milliseconds(2500));
  EXPECT_TRUE(config->strict);
  EXPECT_EQ(config->domains, DomainSelection::opt_in);
  EXPECT_EQ(config->frames, 1024u);
  EXPECT_EQ(config->bridges, (std::map<std::string, std::string>{{"br0", "eth0"}, {"ovs-br1", "eth1"}}));
  EXPECT_EQ(parse_hook_config("timeout_seconds = 3", "x")->timeout, std::chrono::seconds(3));
}

TEST(HookConfig, RefusesWhatItDoesNotKnow) {
  EXPECT_EQ(error_of("strcit = true"),
            "hook.toml: key 'strcit': unknown key (see deploy/libvirt-hook.toml for the known ones)");
  EXPECT_EQ(error_of("strict = \"yes\""), "hook.toml: key 'strict': must be true or false");
  EXPECT_EQ(error_of("domains = \"some\""), "hook.toml: key 'domains': must be \"all\" or \"opt-in\"");
  EXPECT_EQ(error_of("timeout_seconds = 0"),
            "hook.toml: key 'timeout_seconds': must be a number of seconds above 0 and at most 300");
  EXPECT_EQ(error_of("frames = -1"), "hook.toml: key 'frames': must be a positive integer (vmqd checks its range)");
  // Neither converted (undefined behaviour for a float out of range, or NaN) nor accepted.
  EXPECT_EQ(error_of("frames = 1e30"), "hook.toml: key 'frames': must be a positive integer (vmqd checks its range)");
  EXPECT_EQ(error_of("timeout_seconds = nan"),
            "hook.toml: key 'timeout_seconds': must be a number of seconds above 0 and at most 300");
  EXPECT_EQ(error_of("bridges = \"br0\""), "hook.toml: key 'bridges': must be a table of bridge = \"uplink\"");
  EXPECT_EQ(error_of("[bridges]\nbr0 = 3"), "hook.toml: key 'bridges.br0': must be a string: the uplink's name");
  EXPECT_NE(error_of("[bridges]\nbr0 = \"a very long uplink name\"").find("invalid uplink name"), std::string::npos);
  EXPECT_NE(error_of("[bridges]\n\"br/0\" = \"eth0\"").find("invalid bridge name 'br/0'"), std::string::npos);
}

TEST(HookConfig, NamesTheLineOfASyntaxError) {
  const std::string message = error_of("strict = false\n[bridges\n");
  EXPECT_TRUE(message.starts_with("hook.toml:2:")) << message;
}

TEST(HookConfig, AMissingFileIsTheDefault) {
  auto config = load_hook_config("/nonexistent/libvirt-hook.toml");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_TRUE(config->bridges.empty());
}

TEST(HookConfig, LoadsAFile) {
  const auto path = std::filesystem::temp_directory_path() / ("vmq-hook-config-" + std::to_string(::getpid()));
  {
    std::ofstream out(path);
    out << "[bridges]\nbr0 = \"uplink0\"\n";
  }
  auto config = load_hook_config(path.string());
  std::filesystem::remove(path);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->bridges.at("br0"), "uplink0");
  auto directory = load_hook_config(std::filesystem::temp_directory_path().string());
  ASSERT_FALSE(directory);
  EXPECT_NE(directory.error().message.find("not a regular file"), std::string::npos);
}

}  // namespace
}  // namespace vmq::libvirt_hook
