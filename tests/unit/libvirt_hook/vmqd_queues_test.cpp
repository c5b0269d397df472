#include <gtest/gtest.h>

#include "libvirt_hook/hook.h"
#include "libvirt_hook/vmqd_queues.h"

namespace vmq::libvirt_hook {
namespace {

using api::json;

QueueRequest trunk_request() {
  const MacAddress mac = MacAddress::parse("52:54:00:77:00:12").value();
  return QueueRequest{"vm2.525400770012", "vm2", "uplink1", "vnet9", VlanMode::trunk,
                      {FilterMatch::make(mac, 200).value(), FilterMatch::make(mac, 201).value()}, 512, "interface"};
}

TEST(VmqdQueues, QueueAddParametersAreTheControlProtocols) {
  EXPECT_EQ(queue_add_params(trunk_request()),
            json::parse(R"({"name": "vm2.525400770012", "vm": "vm2", "uplink": "uplink1", "port": "vnet9",
                            "vlan_mode": "trunk", "frames": 512,
                            "filters": [{"mac": "52:54:00:77:00:12", "vlan": 200},
                                        {"mac": "52:54:00:77:00:12", "vlan": 201}]})"));
  QueueRequest untagged = trunk_request();
  untagged.filters = {FilterMatch::make(MacAddress::parse("52:54:00:77:00:12").value(), std::nullopt).value()};
  untagged.frames.reset();
  const json params = queue_add_params(untagged);
  EXPECT_FALSE(params.contains("frames"));
  EXPECT_TRUE(params["filters"][0]["vlan"].is_null());
}

TEST(VmqdQueues, AnIdenticalQueueMatchesWhateverTheFilterOrder) {
  const json shown = json::parse(R"({"id": 4, "name": "vm2.525400770012", "uplink": "uplink1", "port": "vnet9",
      "vlan_mode": "trunk", "state": "running", "last_error": null, "frames": 512,
      "filters": [{"id": 9, "mac": "52:54:00:77:00:12", "vlan": 201, "hits": 0},
                  {"id": 8, "mac": "52:54:00:77:00:12", "vlan": 200, "hits": 3}]})");
  EXPECT_TRUE(matches(shown, trunk_request()));
  for (const auto& [key, value] : std::vector<std::pair<std::string, json>>{
           {"port", "vnet3"}, {"uplink", "uplink0"}, {"vlan_mode", "access"}, {"last_error", "port vnet9 is gone"},
           {"filters", json::parse(R"([{"mac": "52:54:00:77:00:12", "vlan": 200}])")}}) {
    json other = shown;
    other[key] = value;
    EXPECT_FALSE(matches(other, trunk_request())) << key;
  }
}

TEST(VmqdQueues, AnUnreachableAgentIsReportedAtOnce) {
  VmqdQueues vmqd("/nonexistent/vmqd.sock", std::chrono::seconds(5));
  const auto started = std::chrono::steady_clock::now();
  auto first = vmqd.ensure(trunk_request());
  auto second = vmqd.remove("vm2.525400770012");
  ASSERT_FALSE(first);
  ASSERT_FALSE(second);
  EXPECT_NE(first.error().message.find("vmqd is unreachable on /nonexistent/vmqd.sock"), std::string::npos);
  EXPECT_EQ(second.error().message, first.error().message);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
}

TEST(HookOperations, OnlyStartsAndStopsAskAnythingOfVmq) {
  for (const char* op : {"started", "attach", "reconnect"}) EXPECT_EQ(action_for(op), Action::give_queues) << op;
  for (const char* op : {"stopped", "release"}) EXPECT_EQ(action_for(op), Action::remove_queues) << op;
  for (const char* op : {"prepare", "start", "migrate", "restore", "shutdown", ""})
    EXPECT_EQ(action_for(op), Action::none) << op;
}

TEST(HookOperations, StrictModeNeverFailsAReconnect) {
  HookConfig strict;
  strict.strict = true;
  EXPECT_TRUE(may_fail({"vm1", "started", "begin", "-"}, strict));
  EXPECT_TRUE(may_fail({"vm1", "attach", "begin", "-"}, strict));
  EXPECT_FALSE(may_fail({"vm1", "reconnect", "begin", "-"}, strict));
  EXPECT_FALSE(may_fail({"vm1", "started", "begin", "-"}, HookConfig{}));
}

}  // namespace
}  // namespace vmq::libvirt_hook
