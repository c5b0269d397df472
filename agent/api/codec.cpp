#include "api/codec.h"

namespace vmq::api {

std::string integer_range(std::uint64_t max) { return fmt::format("an integer from 0 to {}", max); }

std::expected<MacAddress, ValueProblem> Codec<MacAddress>::decode(const json& j) {
  if (!j.is_string()) return std::unexpected(ValueProblem{true, "a string"});
  auto mac = MacAddress::parse(j.get<std::string>());
  if (!mac) return std::unexpected(ValueProblem{false, mac.error().message});
  return *mac;
}

std::expected<VlanMode, ValueProblem> Codec<VlanMode>::decode(const json& j) {
  if (!j.is_string()) return std::unexpected(ValueProblem{true, "a string"});
  auto mode = parse_vlan_mode(j.get<std::string>());
  if (!mode) return std::unexpected(ValueProblem{false, mode.error().message});
  return *mode;
}

std::expected<PortKind, ValueProblem> Codec<PortKind>::decode(const json& j) {
  if (!j.is_string()) return std::unexpected(ValueProblem{true, "a string"});
  auto kind = parse_port_kind(j.get<std::string>());
  if (!kind) return std::unexpected(ValueProblem{false, kind.error().message});
  return *kind;
}

}  // namespace vmq::api
