// vmqd's TOML configuration: every key read and checked, errors naming the
// file and the key, and validate()'s cross-key rules.
#include <gtest/gtest.h>

#include <cctype>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "service/config.h"
#include "unit/service_temp_dir.h"

namespace vmq::service {
namespace {

using test::TempDir;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class ConfigTest : public ::testing::Test {
 protected:
  std::string path() const { return dir.file("vmqd.toml"); }
  Result<AgentConfig> load(const std::string& text) {
    test::write_file(path(), text);
    return load_config(path(), true);
  }
  // Loads `text`, expects a refusal, returns its message.
  std::string refused(const std::string& text) {
    auto config = load(text);
    if (config) {
      ADD_FAILURE() << "accepted:\n" << text;
      return {};
    }
    EXPECT_EQ(config.error().code, Errc::invalid_argument) << config.error().message;
    return config.error().message;
  }

  TempDir dir;
};

TEST_F(ConfigTest, FullValidFileSetsEveryKey) {
  auto config = load(R"(# vmqd test configuration
uplinks = ["eth0", "enp3s0f1"]
cpus = "0-3,8"
max_queues = 32
max_filters = 256
umem_frames_per_rxq = 8192
queue_frames = 1024
xdp_attach = "netlink"
socket = "/run/vmq-test/vmqd.sock"
socket_group = "kvm"
state_dir = "/var/lib/vmq-test"
log_level = "debug"
host_id = "host-a.example"
)");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->uplinks, (std::vector<std::string>{"eth0", "enp3s0f1"}));
  EXPECT_EQ(config->cpus, (std::set<unsigned>{0, 1, 2, 3, 8}));
  EXPECT_EQ(config->max_queues, 32u);
  EXPECT_EQ(config->max_filters, 256u);
  EXPECT_EQ(config->umem_frames_per_rxq, 8192u);
  EXPECT_EQ(config->queue_frames, 1024u);
  EXPECT_EQ(config->xdp_attach, "netlink");
  EXPECT_EQ(config->socket_path, "/run/vmq-test/vmqd.sock");
  EXPECT_EQ(config->socket_group, "kvm");
  EXPECT_EQ(config->state_dir, "/var/lib/vmq-test");
  EXPECT_EQ(config->log_level, LogLevel::debug);
  EXPECT_EQ(config->host_id, "host-a.example");
}

TEST_F(ConfigTest, EmptyFileKeepsTheDefaults) {
  auto config = load("# nothing set\n");
  ASSERT_TRUE(config) << config.error().message;
  const AgentConfig defaults;
  EXPECT_TRUE(config->uplinks.empty());
  EXPECT_TRUE(config->cpus.empty());
  EXPECT_EQ(config->max_queues, defaults.max_queues);
  EXPECT_EQ(config->max_filters, defaults.max_filters);
  EXPECT_EQ(config->umem_frames_per_rxq, defaults.umem_frames_per_rxq);
  EXPECT_EQ(config->queue_frames, defaults.queue_frames);
  EXPECT_EQ(config->xdp_attach, "auto");
  EXPECT_EQ(config->socket_path, "/run/vmq/vmqd.sock");
  EXPECT_EQ(config->socket_group, "vmq");
  EXPECT_EQ(config->state_dir, "/var/lib/vmq");
  EXPECT_EQ(config->log_level, LogLevel::info);
  EXPECT_EQ(config->host_id, "");
}

TEST_F(ConfigTest, BoundaryValuesAreAccepted) {
  auto low = load("max_queues = 1\nmax_filters = 1\numem_frames_per_rxq = 64\nqueue_frames = 64\n");
  ASSERT_TRUE(low) << low.error().message;
  EXPECT_EQ(low->max_queues, 1u);
  EXPECT_EQ(low->umem_frames_per_rxq, 64u);
  auto high = load("max_queues = 4095\nmax_filters = 65536\numem_frames_per_rxq = 1048576\nqueue_frames = 4096\n");
  ASSERT_TRUE(high) << high.error().message;
  EXPECT_EQ(high->max_queues, 4095u);
  EXPECT_EQ(high->max_filters, 65536u);
  EXPECT_EQ(high->umem_frames_per_rxq, 1048576u);
  EXPECT_EQ(high->queue_frames, 4096u);
}

TEST_F(ConfigTest, MissingFileIsAnErrorOnlyWhenRequired) {
  const std::string missing = dir.file("absent.toml");
  auto required = load_config(missing, true);
  ASSERT_FALSE(required);
  EXPECT_EQ(required.error().code, Errc::not_found);
  EXPECT_EQ(required.error().message, missing + ": no such configuration file");

  auto optional = load_config(missing, false);
  ASSERT_TRUE(optional) << optional.error().message;
  EXPECT_EQ(optional->max_queues, AgentConfig{}.max_queues);
  EXPECT_EQ(optional->socket_path, AgentConfig{}.socket_path);
}

TEST_F(ConfigTest, WrongTypesAndRangesNameTheFileAndTheKey) {
  struct Case {
    const char* text;
    const char* message;  // after "<path>: "
  };
  const Case cases[] = {
      {"uplinks = \"eth0\"", "key 'uplinks': must be an array of strings"},
      {"uplinks = [\"eth0\", 1]", "key 'uplinks': must be an array of strings"},
      {"uplinks = [[\"eth0\"]]", "key 'uplinks': must be an array of strings"},
      {"cpus = 3", "key 'cpus': must be a string"},
      {"cpus = [0, 1]", "key 'cpus': must be a string"},
      {"max_queues = \"8\"", "key 'max_queues': must be an integer"},
      {"max_queues = 8.0", "key 'max_queues': must be an integer"},
      // A float beyond any integer: found by fuzzing (toml++ converted it, undefined behaviour).
      {"max_filters = 64000000002000020000.0", "key 'max_filters': must be an integer"},
      {"max_queues = true", "key 'max_queues': must be an integer"},
      {"max_queues = 0", "key 'max_queues': must be between 1 and 4095 (got 0)"},
      {"max_queues = -1", "key 'max_queues': must be between 1 and 4095 (got -1)"},
      {"max_queues = 4096", "key 'max_queues': must be between 1 and 4095 (got 4096)"},
      {"max_queues = 9223372036854775807", "key 'max_queues': must be between 1 and 4095 (got 9223372036854775807)"},
      {"max_filters = 0", "key 'max_filters': must be between 1 and 65536 (got 0)"},
      {"max_filters = 65537", "key 'max_filters': must be between 1 and 65536 (got 65537)"},
      {"max_filters = [1]", "key 'max_filters': must be an integer"},
      {"umem_frames_per_rxq = 32", "key 'umem_frames_per_rxq': must be between 64 and 1048576 (got 32)"},
      {"umem_frames_per_rxq = 2097152", "key 'umem_frames_per_rxq': must be between 64 and 1048576 (got 2097152)"},
      {"queue_frames = 63", "key 'queue_frames': must be between 64 and 4096 (got 63)"},
      {"queue_frames = 8192", "key 'queue_frames': must be between 64 and 4096 (got 8192)"},
      {"xdp_attach = 1", "key 'xdp_attach': must be a string"},
      {"socket = 1", "key 'socket': must be a string"},
      {"socket_group = true", "key 'socket_group': must be a string"},
      {"state_dir = []", "key 'state_dir': must be a string"},
      {"log_level = 7", "key 'log_level': must be a string"},
      {"log_level = \"verbose\"",
       "key 'log_level': invalid log level 'verbose' (expected error, warning, notice, info or debug)"},
      {"host_id = 1", "key 'host_id': must be a string"},
      {"host_id = {name = \"a\"}", "key 'host_id': must be a string"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const std::string message = refused(std::string(c.text) + "\n");
    EXPECT_EQ(message, path() + ": " + c.message);
  }
}

TEST_F(ConfigTest, VhostUserKeys) {
  auto config = load("vhost_user_socket_group = \"kvm\"\nvhost_user_socket_mode = \"0640\"\n"
                     "vhost_user_bridge = \"br0\"\n");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->vhost_user_socket_group, "kvm");
  EXPECT_EQ(config->vhost_user_socket_mode, 0640u);
  EXPECT_EQ(config->vhost_user_bridge, "br0");

  auto defaults = load("");
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->vhost_user_socket_mode, 0660u);
  EXPECT_EQ(defaults->vhost_user_bridge, "");

  EXPECT_TRUE(contains(refused("vhost_user_socket_mode = \"0666\"\n"), "lets every user connect"));
  EXPECT_TRUE(contains(refused("vhost_user_socket_mode = \"0661\"\n"), "lets every user connect"));
  EXPECT_TRUE(contains(refused("vhost_user_socket_mode = \"rw\"\n"), "not an octal mode"));
  EXPECT_TRUE(contains(refused("vhost_user_socket_mode = \"01660\"\n"), "not an octal mode"));
  EXPECT_TRUE(contains(refused("vhost_user_socket_mode = 660\n"), "must be a string"));
  EXPECT_TRUE(contains(refused("vhost_user_bridge = \"br/0\"\n"), "key 'vhost_user_bridge'"));
}

TEST_F(ConfigTest, UnknownKeysAreRefused) {
  EXPECT_EQ(refused("max_queues = 8\nmax_queue = 8\n"),
            path() + ": key 'max_queue': unknown key (see deploy/vmqd.toml for the known ones)");
  // A table is a key too: sections are not part of the format.
  EXPECT_EQ(refused("[agent]\nmax_queues = 8\n"),
            path() + ": key 'agent': unknown key (see deploy/vmqd.toml for the known ones)");
  // Keys are case-sensitive.
  EXPECT_TRUE(contains(refused("Max_Queues = 8\n"), "key 'Max_Queues': unknown key"));
}

TEST_F(ConfigTest, SyntaxErrorGivesFileLineAndColumn) {
  const std::string message = refused("max_queues = 8\nmax_filters = \nlog_level = \"info\"\n");
  EXPECT_TRUE(contains(message, path() + ":2:")) << message;
  // file:line:col: description
  const std::string after = message.substr(path().size() + 3);
  ASSERT_FALSE(after.empty());
  EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(after.front()))) << message;
  EXPECT_TRUE(contains(after, ": ")) << message;

  const std::string unterminated = refused("uplinks = [\"eth0\"\n");
  EXPECT_TRUE(contains(unterminated, path() + ":")) << unterminated;

  const std::string duplicate = refused("max_queues = 8\nmax_queues = 9\n");
  EXPECT_TRUE(contains(duplicate, path() + ":2:")) << duplicate;
}

TEST_F(ConfigTest, ADirectoryInsteadOfAFileIsRefused) {
  // `vmqd --config /etc/vmq` (the directory, not the file).
  for (bool required : {true, false}) {
    SCOPED_TRACE(required);
    Result<AgentConfig> config = AgentConfig{};
    ASSERT_NO_THROW(config = load_config(dir.path(), required));
    // Not read as an empty document, which would start vmqd with the built-in defaults.
    ASSERT_FALSE(config) << dir.path() << " was accepted";
    EXPECT_EQ(config.error().code, Errc::invalid_argument);
    EXPECT_EQ(config.error().message, dir.path() + ": not a regular file");
  }
}

TEST_F(ConfigTest, CpuListsAreParsed) {
  struct Case {
    const char* text;
    std::set<unsigned> cpus;
  };
  const Case cases[] = {
      {"0-3,8", {0, 1, 2, 3, 8}},
      {"5", {5}},
      {"0,2,4", {0, 2, 4}},
      {"2-2", {2}},
      {"1-2,2-3", {1, 2, 3}},
      {"4095", {4095}},
      {"", {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto config = load(fmt::format("cpus = \"{}\"\n", c.text));
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->cpus, c.cpus);
  }
}

TEST_F(ConfigTest, BadCpuListsAreRefusedWithTheKey) {
  const char* bad[] = {"3-1", "a", "0-3,", ",1", "1,,2", "4096", "0-4096", "-1", "0-", "1 2", "0x1", " 1", "1-2-3"};
  for (const char* text : bad) {
    SCOPED_TRACE(text);
    EXPECT_EQ(refused(fmt::format("cpus = \"{}\"\n", text)),
              fmt::format("{}: key 'cpus': invalid CPU list '{}'", path(), text));
  }
}

TEST_F(ConfigTest, ValidationErrorsInTheFileNameTheFile) {
  EXPECT_EQ(refused("umem_frames_per_rxq = 1000\n"),
            path() + ": key 'umem_frames_per_rxq': must be a power of two (got 1000)");
  EXPECT_EQ(refused("uplinks = [\"eth0\", \"eth0\"]\n"), path() + ": key 'uplinks': eth0 is listed twice");
  EXPECT_EQ(refused("xdp_attach = \"native\"\n"),
            path() + ": key 'xdp_attach': invalid XDP attach policy 'native' (expected auto or netlink)");
  EXPECT_EQ(refused("socket = \"vmqd.sock\"\n"),
            path() + ": key 'socket': must be an absolute path shorter than 108 characters");
}

TEST_F(ConfigTest, LogLevelsRoundTrip) {
  for (const char* name : {"error", "warning", "notice", "info", "debug"}) {
    auto level = parse_log_level(name);
    ASSERT_TRUE(level) << name;
    EXPECT_EQ(to_string(*level), name);
  }
  EXPECT_EQ(static_cast<int>(*parse_log_level("warning")), 4);
  EXPECT_FALSE(parse_log_level("INFO"));
  EXPECT_FALSE(parse_log_level(""));
}

// ---- validate(): rules that apply to flags as well as to the file ----------

std::string invalid(const AgentConfig& config) {
  auto ok = validate(config);
  if (ok) {
    ADD_FAILURE() << "validate() accepted the configuration";
    return {};
  }
  EXPECT_EQ(ok.error().code, Errc::invalid_argument);
  return ok.error().message;
}

TEST_F(ConfigTest, RebalanceTableSetsThePolicy) {
  auto config = load(R"([rebalance]
enabled = true
interval_ms = 500
high = 0.6
low = 0
sustain = 2
cooldown = 0
pack = false
)");
  ASSERT_TRUE(config) << config.error().message;
  const RebalanceConfig& r = config->rebalance;
  EXPECT_TRUE(r.policy.enabled);
  EXPECT_EQ(r.interval_ms, 500u);
  EXPECT_DOUBLE_EQ(r.policy.high, 0.6);
  EXPECT_DOUBLE_EQ(r.policy.low, 0.0);
  EXPECT_EQ(r.policy.sustain, 2u);
  EXPECT_EQ(r.policy.cooldown, 0u);
  EXPECT_FALSE(r.policy.pack);
  auto defaults = load("");
  ASSERT_TRUE(defaults);
  EXPECT_FALSE(defaults->rebalance.policy.enabled) << "off unless asked for";
}

TEST_F(ConfigTest, BadRebalanceSettingsAreRefusedWithTheKey) {
  EXPECT_TRUE(contains(refused("[rebalance]\nhigh = 0.2\nlow = 0.3\n"),
                       "the thresholds overlap: low (0.3) must be below high (0.2)"));
  EXPECT_TRUE(contains(refused("[rebalance]\nhigh = 0.5\nlow = 0.5\n"), "overlap"));
  EXPECT_TRUE(contains(refused("[rebalance]\nhigh = 1.5\n"), "key 'high': must be a number from 0 to 1 (got 1.5)"));
  EXPECT_TRUE(contains(refused("[rebalance]\nhigh = \"75%\"\n"), "key 'high': must be a number from 0 to 1"));
  EXPECT_TRUE(contains(refused("[rebalance]\ninterval_ms = 50\n"), "key 'interval_ms': must be between 100 and 60000"));
  EXPECT_TRUE(contains(refused("[rebalance]\nsustain = 0\n"), "key 'sustain'"));
  EXPECT_TRUE(contains(refused("[rebalance]\nenabled = 1\n"), "key 'enabled': must be true or false"));
  EXPECT_TRUE(contains(refused("[rebalance]\nthreshold = 0.5\n"), "key 'rebalance.threshold': unknown key"));
  EXPECT_TRUE(contains(refused("rebalance = true\n"), "key 'rebalance': must be a table"));
  EXPECT_TRUE(contains(refused("[rebalance]\nhigh = 0.2\nlow = 0.3\n"), path())) << "names the file";
}

TEST(ConfigValidate, DefaultsAreValid) {
  auto ok = validate(AgentConfig{});
  EXPECT_TRUE(ok) << ok.error().message;
}

TEST(ConfigValidate, UmemFramesMustBeAPowerOfTwo) {
  AgentConfig c;
  c.queue_frames = 64;
  for (std::uint32_t frames : {100u, 3000u, 4097u, 0u}) {
    c.umem_frames_per_rxq = frames;
    EXPECT_EQ(invalid(c), fmt::format("key 'umem_frames_per_rxq': must be a power of two (got {})", frames));
  }
  for (std::uint32_t frames : {64u, 2048u, 1u << 20}) {
    c.umem_frames_per_rxq = frames;
    EXPECT_TRUE(validate(c)) << frames;
  }
}

TEST(ConfigValidate, QueueFramesMustFitTheUmem) {
  AgentConfig c;
  c.umem_frames_per_rxq = 2048;
  c.queue_frames = 4096;
  EXPECT_EQ(invalid(c), "key 'queue_frames': must not exceed umem_frames_per_rxq (2048)");
  c.queue_frames = 2048;
  EXPECT_TRUE(validate(c));
}

TEST(ConfigValidate, EveryQueueNeedsAFilter) {
  AgentConfig c;
  c.max_queues = 20;
  c.max_filters = 10;
  EXPECT_EQ(invalid(c), "key 'max_filters': must be at least max_queues (20): every queue needs a filter");
  c.max_filters = 20;
  EXPECT_TRUE(validate(c));
}

TEST(ConfigValidate, UplinksMustBeDistinctDeviceNames) {
  AgentConfig c;
  c.uplinks = {"eth0", "eth1", "eth0"};
  EXPECT_EQ(invalid(c), "key 'uplinks': eth0 is listed twice");
  for (const char* bad : {"eth/0", "", "a-name-of-16-chr", "eth:0", "eth 0", ".", ".."}) {
    SCOPED_TRACE(bad);
    c.uplinks = {"eth0", bad};
    const std::string message = invalid(c);
    EXPECT_EQ(message, fmt::format("key 'uplinks': invalid uplink name '{}': a network device name has 1 to 15 "
                                   "characters, without '/', ':' or spaces",
                                   bad));
  }
  c.uplinks = {"eth0", "a-name-of-15-ch"};
  EXPECT_TRUE(validate(c));
}

TEST(ConfigValidate, PathsMustBeAbsolute) {
  AgentConfig c;
  c.socket_path = "run/vmq/vmqd.sock";
  EXPECT_EQ(invalid(c), "key 'socket': must be an absolute path shorter than 108 characters");
  c.socket_path = "";
  EXPECT_EQ(invalid(c), "key 'socket': must be an absolute path shorter than 108 characters");
  c.socket_path = "/" + std::string(107, 's');  // 108 bytes: no room for the NUL in sun_path
  EXPECT_EQ(invalid(c), "key 'socket': must be an absolute path shorter than 108 characters");
  c.socket_path = "/" + std::string(106, 's');
  EXPECT_TRUE(validate(c));

  c = AgentConfig{};
  c.state_dir = "var/lib/vmq";
  EXPECT_EQ(invalid(c), "key 'state_dir': must be an absolute path");
  c.state_dir = "";
  EXPECT_EQ(invalid(c), "key 'state_dir': must be an absolute path");
}

TEST(ConfigValidate, XdpAttachIsAutoOrNetlink) {
  AgentConfig c;
  for (const char* good : {"auto", "netlink"}) {
    c.xdp_attach = good;
    EXPECT_TRUE(validate(c)) << good;
  }
  for (const char* bad : {"native", "", "AUTO", "skb"}) {
    c.xdp_attach = bad;
    EXPECT_EQ(invalid(c), fmt::format("key 'xdp_attach': invalid XDP attach policy '{}' (expected auto or netlink)", bad));
  }
}

}  // namespace
}  // namespace vmq::service
