#include "service/metrics_listen_address.h"

#include <boost/asio/ip/address.hpp>
#include <charconv>

#include <fmt/format.h>

namespace vmq::service {

namespace {

std::unexpected<Error> refuse(std::string_view text, std::string_view why) {
  return fail(Errc::invalid_argument,
              fmt::format("'{}': {} (expected ADDRESS:PORT, e.g. {} or [::1]:8497)", text, why, kMetricsListenExample));
}

}  // namespace

Result<boost::asio::ip::tcp::endpoint> parse_listen_address(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return refuse(text, "no port");
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (host.find(':') == std::string_view::npos) return refuse(text, "brackets are for IPv6 addresses only");
  } else if (host.find(':') != std::string_view::npos) {
    return refuse(text, "an IPv6 address goes in brackets");
  }
  if (host.empty()) return refuse(text, "no address (0.0.0.0 or [::] listens on every interface)");
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(std::string(host), ec);
  if (ec) return refuse(text, fmt::format("'{}' is not an IP address (host names are not resolved)", host));
  unsigned port = 0;
  const auto [end, err] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (err != std::errc() || end != port_text.data() + port_text.size() || port < 1 || port > 65535)
    return refuse(text, fmt::format("the port must be a number from 1 to 65535 (got '{}')", port_text));
  return boost::asio::ip::tcp::endpoint(address, static_cast<unsigned short>(port));
}

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  return address.is_v6() ? fmt::format("[{}]:{}", address.to_string(), endpoint.port())
                         : fmt::format("{}:{}", address.to_string(), endpoint.port());
}

}  // namespace vmq::service
