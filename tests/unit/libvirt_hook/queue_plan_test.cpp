#include <gtest/gtest.h>

#include <algorithm>

#include "libvirt_hook/domain_xml.h"
#include "libvirt_hook/queue_plan.h"
#include "recorded_xml.h"

namespace vmq::libvirt_hook {
namespace {

using test::recorded_xml;

Domain recorded(const char* file) { return parse_domain_xml(recorded_xml(file)).value(); }

HookConfig bridges(std::map<std::string, std::string> map) {
  HookConfig config;
  config.bridges = std::move(map);
  return config;
}

FilterMatch filter(const char* mac, std::optional<long> vlan) {
  return FilterMatch::make(MacAddress::parse(mac).value(), vlan).value();
}

bool any_contains(const std::vector<std::string>& lines, const std::string& text) {
  return std::ranges::any_of(lines, [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

TEST(QueuePlan, AnInterfaceOnAMappedBridgeGetsAnUntaggedQueue) {
  const QueuePlan plan = plan_queues(recorded("vm1-running.xml"), bridges({{"br0", "uplink0"}}));
  EXPECT_TRUE(plan.errors.empty()) << plan.errors.front();
  ASSERT_EQ(plan.queues.size(), 1u);
  const QueueRequest& q = plan.queues[0];
  EXPECT_EQ(q.name, "vm1.525400770001");
  EXPECT_EQ(q.vm, "vm1");
  EXPECT_EQ(q.uplink, "uplink0");
  EXPECT_EQ(q.port, "vm1port");
  EXPECT_EQ(q.vlan_mode, VlanMode::access);
  EXPECT_EQ(q.filters, std::vector<FilterMatch>{filter("52:54:00:77:00:01", std::nullopt)});
  EXPECT_FALSE(q.frames);
  // The others are left alone, each with its reason.
  EXPECT_TRUE(any_contains(plan.skipped, "52:54:00:3c:1a:07 (tap vnet5, bridge virbr0): bridge virbr0 has no uplink"));
  EXPECT_TRUE(any_contains(plan.skipped, "52:54:00:3c:1a:08 (type vhostuser): vhost-user interfaces are not handled"));
}

TEST(QueuePlan, NothingIsSelectedWithoutAMapping) {
  const QueuePlan plan = plan_queues(recorded("vm1-running.xml"), HookConfig{});
  EXPECT_TRUE(plan.queues.empty());
  EXPECT_TRUE(plan.errors.empty());
  EXPECT_EQ(plan.skipped.size(), 3u);
}

TEST(QueuePlan, OneTagIsAccessSeveralOrTrunkYesAreTrunk) {
  HookConfig config = bridges({{"br0", "uplink0"}, {"ovsbr0", "uplink1"}});
  config.frames = 256;
  const QueuePlan plan = plan_queues(recorded("vm2-vlans.xml"), config);
  ASSERT_EQ(plan.queues.size(), 2u);
  EXPECT_EQ(plan.queues[0].vlan_mode, VlanMode::access);
  EXPECT_EQ(plan.queues[0].filters, std::vector<FilterMatch>{filter("52:54:00:77:00:02", 100)});
  EXPECT_EQ(plan.queues[0].frames, 256u);
  EXPECT_EQ(plan.queues[1].uplink, "uplink1");
  EXPECT_EQ(plan.queues[1].port, "vnet9");
  EXPECT_EQ(plan.queues[1].vlan_mode, VlanMode::trunk);
  EXPECT_EQ(plan.queues[1].filters,
            (std::vector<FilterMatch>{filter("52:54:00:77:00:12", 200), filter("52:54:00:77:00:12", 201)}));

  Domain one_trunk_tag = recorded("vm2-vlans.xml");
  one_trunk_tag.interfaces[1].vlan->tags = {300};
  EXPECT_EQ(plan_queues(one_trunk_tag, config).queues[1].vlan_mode, VlanMode::trunk);
}

TEST(QueuePlan, RefusesWhatAQueueCannotDo) {
  Domain domain = recorded("vm2-vlans.xml");
  domain.interfaces[0].vlan->native_mode = "untagged";
  domain.interfaces[1].vlan->tags = {4095};
  const QueuePlan plan = plan_queues(domain, bridges({{"br0", "uplink0"}, {"ovsbr0", "uplink1"}}));
  EXPECT_TRUE(plan.queues.empty());
  ASSERT_EQ(plan.errors.size(), 2u);
  EXPECT_TRUE(any_contains(plan.errors, "nativeMode='untagged' on a VLAN tag is not supported"));
  EXPECT_TRUE(any_contains(plan.errors, "VLAN 4095"));
}

TEST(QueuePlan, AnInterfaceWithoutItsTapIsAnError) {
  Domain domain = recorded("vm1-running.xml");
  domain.interfaces[0].port.clear();
  const QueuePlan plan = plan_queues(domain, bridges({{"br0", "uplink0"}}));
  EXPECT_TRUE(plan.queues.empty());
  EXPECT_TRUE(any_contains(plan.errors, "52:54:00:77:00:01 (bridge br0): libvirt gave it no tap"));
}

TEST(QueuePlan, MetadataGivesAnUplinkAndFramesAndOptsInterfacesOut) {
  const QueuePlan plan = plan_queues(recorded("vm3-metadata.xml"), bridges({{"br0", "uplink0"}}));
  EXPECT_TRUE(plan.errors.empty()) << plan.errors.front();
  ASSERT_EQ(plan.queues.size(), 1u);
  EXPECT_EQ(plan.queues[0].name, "vm3.525400770003");
  EXPECT_EQ(plan.queues[0].port, "vm3port");
  EXPECT_EQ(plan.queues[0].uplink, "uplink0");
  EXPECT_EQ(plan.queues[0].frames, 1024u);
  EXPECT_TRUE(any_contains(plan.skipped, "52:54:00:77:00:13 (tap vnet13, bridge br0): the domain's vmq metadata says enabled='no'"));
}

TEST(QueuePlan, ADomainMayOptOut) {
  const QueuePlan plan = plan_queues(recorded("vm4-opt-out.xml"), bridges({{"br0", "uplink0"}}));
  EXPECT_TRUE(plan.queues.empty());
  EXPECT_TRUE(plan.errors.empty());
  EXPECT_TRUE(any_contains(plan.skipped, "enabled='no': no queue for any interface"));
}

TEST(QueuePlan, OptInModeSelectsOnlyDomainsThatOptIn) {
  HookConfig config = bridges({{"br0", "uplink0"}});
  config.domains = DomainSelection::opt_in;
  const QueuePlan plain = plan_queues(recorded("vm1-running.xml"), config);
  EXPECT_TRUE(plain.queues.empty());
  EXPECT_TRUE(any_contains(plain.skipped, "opt-in"));
  EXPECT_EQ(plan_queues(recorded("vm3-metadata.xml"), config).queues.size(), 1u);
}

TEST(QueuePlan, MetadataForAnInterfaceTheDomainLacksIsAnError) {
  Domain domain = recorded("vm3-metadata.xml");
  domain.choice.interfaces.push_back({"52:54:00:99:99:99", false, std::nullopt, std::nullopt});
  domain.choice.interfaces.push_back({"not-a-mac", false, std::nullopt, std::nullopt});
  const QueuePlan plan = plan_queues(domain, HookConfig{});
  EXPECT_EQ(plan.queues.size(), 1u);
  EXPECT_TRUE(any_contains(plan.errors, "names interface 52:54:00:99:99:99, which the domain does not have"));
  EXPECT_TRUE(any_contains(plan.errors, "mac='not-a-mac'"));
}

TEST(QueuePlan, StopRemovesEveryQueueTheHookCouldHaveMade) {
  // Whatever the selection: it may have changed since the domain started.
  EXPECT_EQ(queue_names_of(recorded("vm1-running.xml")),
            (std::vector<std::string>{"vm1.525400770001", "vm1.5254003c1a07", "vm1.5254003c1a08"}));
  EXPECT_EQ(queue_names_of(recorded("vm4-opt-out.xml")), std::vector<std::string>{"vm4.525400770004"});
}

}  // namespace
}  // namespace vmq::libvirt_hook
