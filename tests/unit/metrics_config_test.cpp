// The metrics_listen key: off unless set; an address vmqd can listen on is
// accepted; anything else is refused with the file, the key and the reason.
#include <gtest/gtest.h>

#include <string>

#include "service/config.h"
#include "service/metrics_listen_address.h"
#include "unit/service_temp_dir.h"

namespace vmq::service {
namespace {

using test::TempDir;

class MetricsConfigTest : public ::testing::Test {
 protected:
  Result<AgentConfig> load(const std::string& text) {
    test::write_file(path(), text);
    return load_config(path(), true);
  }
  std::string path() const { return dir.file("vmqd.toml"); }
  TempDir dir;
};

TEST_F(MetricsConfigTest, OffByDefault) {
  auto config = load("uplinks = [\"eth0\"]\n");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->metrics_listen, "");
  EXPECT_TRUE(validate(*config));
}

TEST_F(MetricsConfigTest, ValidAddressesAreKept) {
  for (const std::string address : {"127.0.0.1:8497", "0.0.0.0:1", "[::1]:65535", "[::]:8497", "10.1.2.3:9100"}) {
    auto config = load("metrics_listen = \"" + address + "\"\n");
    ASSERT_TRUE(config) << address << ": " << config.error().message;
    EXPECT_EQ(config->metrics_listen, address);
  }
}

TEST_F(MetricsConfigTest, TheShippedExampleLineIsValid) {
  auto config = load(std::string("metrics_listen = \"") + kMetricsListenExample + "\"\n");
  ASSERT_TRUE(config) << config.error().message;
}

TEST_F(MetricsConfigTest, BadAddressesNameTheFileTheKeyAndTheReason) {
  const struct {
    const char* value;
    const char* reason;
  } cases[] = {
      {"127.0.0.1", "no port"},
      {"127.0.0.1:", "the port must be a number from 1 to 65535 (got '')"},
      {"127.0.0.1:0", "the port must be a number from 1 to 65535 (got '0')"},
      {"127.0.0.1:65536", "the port must be a number from 1 to 65535 (got '65536')"},
      {"127.0.0.1:80x", "the port must be a number from 1 to 65535 (got '80x')"},
      {"127.0.0.1:-1", "the port must be a number from 1 to 65535 (got '-1')"},
      {"localhost:8497", "'localhost' is not an IP address (host names are not resolved)"},
      {"300.1.1.1:8497", "'300.1.1.1' is not an IP address"},
      {"::1:8497", "an IPv6 address goes in brackets"},
      {"[127.0.0.1]:8497", "brackets are for IPv6 addresses only"},
      {":8497", "no address (0.0.0.0 or [::] listens on every interface)"},
  };
  for (const auto& c : cases) {
    auto config = load(std::string("metrics_listen = \"") + c.value + "\"\n");
    ASSERT_FALSE(config) << c.value << " was accepted";
    EXPECT_EQ(config.error().code, Errc::invalid_argument);
    const std::string& message = config.error().message;
    EXPECT_EQ(message.rfind(path() + ": key 'metrics_listen': '" + c.value + "': ", 0), 0u) << message;
    EXPECT_NE(message.find(c.reason), std::string::npos) << message;
    EXPECT_NE(message.find("e.g. 127.0.0.1:8497"), std::string::npos) << message;
  }
}

TEST_F(MetricsConfigTest, WrongTypeIsRefused) {
  auto config = load("metrics_listen = 8497\n");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message, path() + ": key 'metrics_listen': must be a string");
}

TEST(MetricsConfig, ValidateChecksTheFlagValueToo) {
  AgentConfig config;
  config.metrics_listen = "127.0.0.1:99999";
  auto ok = validate(config);
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().message.rfind("key 'metrics_listen': '127.0.0.1:99999': ", 0), 0u) << ok.error().message;
  config.metrics_listen = "";
  EXPECT_TRUE(validate(config));
}

TEST(MetricsListenAddress, ParsesAndPrintsBothFamilies) {
  auto v4 = parse_listen_address("127.0.0.1:8497");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->address().is_v4());
  EXPECT_EQ(v4->port(), 8497);
  EXPECT_EQ(endpoint_text(*v4), "127.0.0.1:8497");
  auto v6 = parse_listen_address("[::1]:9");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->address().is_v6());
  EXPECT_EQ(endpoint_text(*v6), "[::1]:9");
}

}  // namespace
}  // namespace vmq::service
