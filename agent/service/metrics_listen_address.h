// Where /metrics listens: "IPv4:PORT" or "[IPv6]:PORT". An IP address, not a
// host name: vmqd resolves nothing at start, and the address says exactly
// which interface the unauthenticated endpoint is open on.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string>
#include <string_view>

#include "core/error.h"

namespace vmq::service {

inline constexpr const char* kMetricsListenExample = "127.0.0.1:8497";

Result<boost::asio::ip::tcp::endpoint> parse_listen_address(std::string_view text);
// "127.0.0.1:8497", "[::1]:8497": the form parse_listen_address() reads.
std::string endpoint_text(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace vmq::service
