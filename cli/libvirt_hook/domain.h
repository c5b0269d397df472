// What the hook reads from the domain XML libvirt passes on stdin: the
// domain's name, its network interfaces, and the operator's vmq metadata.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace vmq::libvirt_hook {

// The XML namespace of the hook's element in the domain's <metadata>.
inline constexpr const char* kMetadataNamespace = "urn:vmq:libvirt-hook:1";

// <vlan [trunk='yes']><tag id='N' [nativeMode='...']/>...</vlan>
struct VlanSetting {
  std::vector<long> tags;
  bool trunk = false;               // trunk='yes'
  std::optional<std::string> native_mode;  // a tag's nativeMode, if any
};

// <devices><interface type='...'>
struct DomainInterface {
  std::string type;                 // bridge, network, ethernet, vhostuser, direct, ...
  std::string mac;                  // mac/@address, as written
  std::string port;                 // target/@dev: the tap, once libvirt made it
  std::string bridge;               // source/@bridge (also in a running type='network' interface)
  std::optional<VlanSetting> vlan;
};

// <vmq:interface mac='...' [enabled='yes|no'] [uplink='eth1'] [frames='N']/>
struct InterfaceChoice {
  std::string mac;
  std::optional<bool> enabled;
  std::optional<std::string> uplink;
  std::optional<unsigned long> frames;
};

// <vmq:queues xmlns:vmq='urn:vmq:libvirt-hook:1' [enabled='yes|no']>...</vmq:queues>
struct DomainChoice {
  bool present = false;
  std::optional<bool> enabled;
  std::vector<InterfaceChoice> interfaces;
};

struct Domain {
  std::string name;
  std::vector<DomainInterface> interfaces;
  DomainChoice choice;
};

}  // namespace vmq::libvirt_hook
