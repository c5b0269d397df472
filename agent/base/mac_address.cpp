#include "base/mac_address.h"

#include <charconv>

#include <fmt/format.h>

namespace vmq {

Result<MacAddress> MacAddress::parse(std::string_view text) {
  auto invalid = [&] {
    return fail(Errc::invalid_argument,
                fmt::format("invalid MAC address '{}' (expected six hex octets like 52:54:00:12:34:56)", text));
  };
  if (text.size() != 17) return invalid();
  Bytes bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char* first = text.data() + i * 3;
    if (i > 0 && first[-1] != ':') return invalid();
    auto [end, ec] = std::from_chars(first, first + 2, bytes[i], 16);
    if (ec != std::errc{} || end != first + 2) return invalid();
  }
  return MacAddress(bytes);
}

std::string MacAddress::to_string() const {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", bytes_[0], bytes_[1], bytes_[2],
                     bytes_[3], bytes_[4], bytes_[5]);
}

}  // namespace vmq
