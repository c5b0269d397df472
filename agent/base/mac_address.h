#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"

namespace vmq {

class MacAddress {
 public:
  using Bytes = std::array<std::uint8_t, 6>;

  constexpr MacAddress() = default;
  constexpr explicit MacAddress(const Bytes& bytes) : bytes_(bytes) {}

  // Accepts six colon-separated hex octets, e.g. "52:54:00:aa:bb:cc".
  static Result<MacAddress> parse(std::string_view text);

  const Bytes& bytes() const { return bytes_; }
  bool is_group() const { return (bytes_[0] & 0x01) != 0; }  // broadcast or multicast
  bool is_zero() const { return bytes_ == Bytes{}; }
  std::string to_string() const;  // lower case, colon separated

  auto operator<=>(const MacAddress&) const = default;

 private:
  Bytes bytes_{};
};

}  // namespace vmq
