#include <gtest/gtest.h>

#include "libvirt_hook/domain_xml.h"
#include "recorded_xml.h"

namespace vmq::libvirt_hook {
namespace {

using test::recorded_xml;

std::string domain_with(const std::string& inside) {
  return "<domain type='qemu'><name>d</name>" + inside + "</domain>";
}

std::string error_of(const std::string& xml) {
  auto domain = parse_domain_xml(xml);
  EXPECT_FALSE(domain) << "accepted: " << xml;
  return domain ? "" : domain.error().message;
}

TEST(DomainXml, ReadsARunningDomainsInterfaces) {
  auto domain = parse_domain_xml(recorded_xml("vm1-running.xml"));
  ASSERT_TRUE(domain) << domain.error().message;
  EXPECT_EQ(domain->name, "vm1");
  ASSERT_EQ(domain->interfaces.size(), 3u);
  const DomainInterface& bridge = domain->interfaces[0];
  EXPECT_EQ(bridge.type, "bridge");
  EXPECT_EQ(bridge.mac, "52:54:00:77:00:01");
  EXPECT_EQ(bridge.port, "vm1port");
  EXPECT_EQ(bridge.bridge, "br0");
  EXPECT_FALSE(bridge.vlan);
  // A running type='network' interface names its bridge too.
  EXPECT_EQ(domain->interfaces[1].type, "network");
  EXPECT_EQ(domain->interfaces[1].bridge, "virbr0");
  EXPECT_EQ(domain->interfaces[2].type, "vhostuser");
  EXPECT_EQ(domain->interfaces[2].port, "");
  EXPECT_FALSE(domain->choice.present);
}

TEST(DomainXml, ReadsWhatLibvirt9PassedAtStarted) {
  // Recorded from Debian 12's libvirtd 9.0 (test_libvirt.py's domain), paths neutralised.
  auto domain = parse_domain_xml(recorded_xml("vmqguest-started-libvirt9.xml"));
  ASSERT_TRUE(domain) << domain.error().message;
  EXPECT_EQ(domain->name, "vmqguest");
  ASSERT_EQ(domain->interfaces.size(), 1u);
  EXPECT_EQ(domain->interfaces[0].type, "bridge");
  EXPECT_EQ(domain->interfaces[0].mac, "52:54:00:77:00:05");
  EXPECT_EQ(domain->interfaces[0].port, "vnet0");
  EXPECT_EQ(domain->interfaces[0].bridge, "br0");
}

TEST(DomainXml, ReadsAccessAndTrunkVlans) {
  auto domain = parse_domain_xml(recorded_xml("vm2-vlans.xml"));
  ASSERT_TRUE(domain) << domain.error().message;
  ASSERT_EQ(domain->interfaces.size(), 2u);
  ASSERT_TRUE(domain->interfaces[0].vlan);
  EXPECT_EQ(domain->interfaces[0].vlan->tags, std::vector<long>{100});
  EXPECT_FALSE(domain->interfaces[0].vlan->trunk);
  ASSERT_TRUE(domain->interfaces[1].vlan);
  EXPECT_EQ(domain->interfaces[1].vlan->tags, (std::vector<long>{200, 201}));
  EXPECT_TRUE(domain->interfaces[1].vlan->trunk);
}

TEST(DomainXml, ReadsTheVmqMetadataBesideOtherApplications) {
  auto domain = parse_domain_xml(recorded_xml("vm3-metadata.xml"));
  ASSERT_TRUE(domain) << domain.error().message;
  ASSERT_TRUE(domain->choice.present);
  EXPECT_EQ(domain->choice.enabled, true);
  ASSERT_EQ(domain->choice.interfaces.size(), 2u);
  const InterfaceChoice& first = domain->choice.interfaces[0];
  EXPECT_EQ(first.mac, "52:54:00:77:00:03");
  EXPECT_EQ(first.uplink, "uplink0");
  EXPECT_EQ(first.frames, 1024u);
  EXPECT_FALSE(first.enabled);
  EXPECT_EQ(domain->choice.interfaces[1].enabled, false);
  EXPECT_EQ(domain->interfaces[0].type, "ethernet");
  EXPECT_EQ(domain->interfaces[0].bridge, "");
}

TEST(DomainXml, FindsTheMetadataByNamespaceWhateverItsPrefix) {
  auto domain = parse_domain_xml(recorded_xml("vm4-opt-out.xml"));
  ASSERT_TRUE(domain) << domain.error().message;
  EXPECT_TRUE(domain->choice.present);
  EXPECT_EQ(domain->choice.enabled, false);
  // The same element name in another namespace is another application's.
  auto other = parse_domain_xml(domain_with(
      "<metadata><x:queues xmlns:x='urn:other' enabled='maybe'/></metadata>"));
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_FALSE(other->choice.present);
}

TEST(DomainXml, RefusesMalformedXmlNamingTheLine) {
  const std::string message = error_of(recorded_xml("malformed.xml"));
  EXPECT_TRUE(message.starts_with("the domain XML on stdin is not valid XML: line 38: ")) << message;
  EXPECT_NE(error_of("<domain><name>x</name>").find("not valid XML"), std::string::npos);
  EXPECT_EQ(error_of(""), "the domain XML on stdin is empty");
  EXPECT_EQ(error_of(" \n"), "the domain XML on stdin is empty");
  EXPECT_NE(error_of(std::string(17u << 20, ' ') + "<domain/>").find("more than the 16777216 accepted"),
            std::string::npos);
}

TEST(DomainXml, RefusesWhatIsNotADomain) {
  EXPECT_EQ(error_of("<network><name>default</name></network>"),
            "the XML on stdin is not a libvirt domain: its root element is <network>");
  EXPECT_EQ(error_of("<domain type='qemu'><uuid>x</uuid></domain>"), "the domain XML on stdin has no <name>");
}

TEST(DomainXml, RefusesBadVlanTags) {
  const std::string iface = "<devices><interface type='bridge'><mac address='52:54:00:00:00:01'/>";
  EXPECT_NE(error_of(domain_with(iface + "<vlan><tag id='x'/></vlan></interface></devices>")).find("id 'x' is not a number"),
            std::string::npos);
  EXPECT_NE(error_of(domain_with(iface + "<vlan><tag id=''/></vlan></interface></devices>")).find("is not a number"),
            std::string::npos);
  EXPECT_NE(error_of(domain_with(iface + "<vlan trunk='yes'></vlan></interface></devices>")).find("has no <tag"),
            std::string::npos);
}

TEST(DomainXml, RefusesMalformedMetadata) {
  const std::string ns = "xmlns:vmq='urn:vmq:libvirt-hook:1'";
  EXPECT_NE(error_of(domain_with("<metadata><vmq:queues " + ns + " enabled='sure'/></metadata>"))
                .find("enabled='sure' must be 'yes' or 'no'"),
            std::string::npos);
  EXPECT_NE(error_of(domain_with("<metadata><vmq:queues " + ns + "><vmq:interface/></vmq:queues></metadata>"))
                .find("mac='...' is required"),
            std::string::npos);
  EXPECT_NE(error_of(domain_with("<metadata><vmq:queues " + ns +
                                 "><vmq:interface mac='52:54:00:00:00:01' frames='lots'/></vmq:queues></metadata>"))
                .find("frames 'lots' is not a number"),
            std::string::npos);
  EXPECT_NE(error_of(domain_with("<metadata><vmq:queue " + ns + "/></metadata>")).find("unknown element <queue>"),
            std::string::npos);
  EXPECT_NE(error_of(domain_with("<metadata><vmq:queues " + ns + "><vmq:iface/></vmq:queues></metadata>"))
                .find("unknown element <iface>"),
            std::string::npos);
}

TEST(DomainXml, NeverFetchesExternalEntities) {
  // An external entity is neither loaded nor expanded.
  auto domain = parse_domain_xml(
      "<!DOCTYPE domain [<!ENTITY e SYSTEM 'file:///etc/hostname'>]><domain><name>a&e;</name></domain>");
  ASSERT_TRUE(domain) << domain.error().message;
  EXPECT_EQ(domain->name, "a");
}

}  // namespace
}  // namespace vmq::libvirt_hook
