#include <gtest/gtest.h>

#include "core/names.h"
#include "libvirt_hook/queue_name.h"

namespace vmq::libvirt_hook {
namespace {

MacAddress mac(const char* text) { return MacAddress::parse(text).value(); }

TEST(QueueName, IsTheDomainAndTheMac) {
  EXPECT_EQ(queue_name_for("web1", mac("52:54:00:12:34:AB")), "web1.5254001234ab");
  EXPECT_EQ(queue_name_for("db.example.com", mac("52:54:00:00:00:01")), "db.example.com.525400000001");
}

TEST(QueueName, RewritesWhatAQueueNameCannotCarryAndKeepsDomainsApart) {
  const std::string spaced = queue_name_for("my web", mac("52:54:00:00:00:01"));
  const std::string underscored = queue_name_for("my_web", mac("52:54:00:00:00:01"));
  EXPECT_TRUE(spaced.starts_with("my_web_")) << spaced;
  EXPECT_EQ(underscored, "my_web.525400000001");
  EXPECT_NE(spaced, underscored);
  EXPECT_TRUE(queue_name_for("_x", mac("52:54:00:00:00:01")).starts_with("vm_x_")) << queue_name_for("_x", mac("52:54:00:00:00:01"));
  // Deterministic: the same input gives the same name (stopped finds started's queue).
  EXPECT_EQ(spaced, queue_name_for("my web", mac("52:54:00:00:00:01")));
}

TEST(QueueName, IsAlwaysAValidQueueName) {
  const std::string long_name(200, 'a');
  for (const std::string& domain : {std::string("web1"), std::string("123"), std::string("é-ü"), long_name,
                                    std::string("-"), std::string("a/b"), long_name + "b"}) {
    const std::string name = queue_name_for(domain, mac("52:54:00:00:00:01"));
    EXPECT_TRUE(check_queue_name(name)) << domain << " -> " << name;
    EXPECT_TRUE(name.ends_with(".525400000001")) << name;
  }
  EXPECT_NE(queue_name_for(long_name, mac("52:54:00:00:00:01")),
            queue_name_for(long_name + "b", mac("52:54:00:00:00:01")));
  EXPECT_EQ(queue_name_for("123", mac("52:54:00:00:00:01")), "123.525400000001");
}

}  // namespace
}  // namespace vmq::libvirt_hook
