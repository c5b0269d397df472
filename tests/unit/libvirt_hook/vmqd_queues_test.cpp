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
  EXPECT_EQ(api::to_json(queue_add_params(trunk_request())),
            json::parse(R"({"name": "vm2.525400770012", "vm": "vm2", "uplink": "uplink1", "port": "vnet9",
                            "vlan_mode": "trunk", "frames": 512,
                            "filters": [{"mac": "52:54:00:77:00:12", "vlan": 200},
                                        {"mac": "52:54:00:77:00:12", "vlan": 201}]})"));
  QueueRequest untagged = trunk_request();
  untagged.filters = {FilterMatch::make(MacAddress::parse("52:54:00:77:00:12").value(), std::nullopt).value()};
  untagged.frames.reset();
  const json params = api::to_json(queue_add_params(untagged));
  EXPECT_FALSE(params.contains("frames"));
  EXPECT_TRUE(params["filters"][0]["vlan"].is_null());
}

TEST(VmqdQueues, AnIdenticalQueueMatchesWhateverTheFilterOrder) {
  const MacAddress mac = MacAddress::parse("52:54:00:77:00:12").value();
  api::Queue shown;
  shown.id = 4;
  shown.settings = {"vm2.525400770012", "vm2", "uplink1", "vnet9", 512, VlanMode::trunk, false};
  shown.state = "running";
  shown.filters = {{9, {4, shown.settings.name}, {mac, api::FilterVlan{201}}, 0, std::nullopt},
                   {8, {4, shown.settings.name}, {mac, api::FilterVlan{200}}, 3, std::nullopt}};
  EXPECT_TRUE(matches(shown, trunk_request()));
  const std::pair<const char*, void (*)(api::Queue&)> changes[] = {
      {"port", [](api::Queue& q) { q.settings.port = "vnet3"; }},
      {"uplink", [](api::Queue& q) { q.settings.uplink = "uplink0"; }},
      {"vlan_mode", [](api::Queue& q) { q.settings.vlan_mode = VlanMode::access; }},
      {"last_error", [](api::Queue& q) { q.last_error = "port vnet9 is gone"; }},
      {"filters", [](api::Queue& q) { q.filters.pop_back(); }},
      {"untagged", [](api::Queue& q) { q.filters.back().rule.vlan.reset(); }},
  };
  for (const auto& [what, change] : changes) {
    api::Queue other = shown;
    change(other);
    EXPECT_FALSE(matches(other, trunk_request())) << what;
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
