#include "core/names.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace vmq {
namespace {

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

}  // namespace

Result<void> check_queue_name(std::string_view name) {
  auto invalid = [&](std::string_view why) {
    return fail(Errc::invalid_argument, fmt::format("invalid queue name '{}': {}", name, why));
  };
  if (name.empty() || name.size() > 64) return invalid("must be 1 to 64 characters");
  if (!is_alnum(name.front())) return invalid("must start with a letter or a digit");
  if (!std::ranges::all_of(name, [](char c) { return is_alnum(c) || c == '_' || c == '.' || c == ':' || c == '-'; }))
    return invalid("may contain only letters, digits, '_', '.', ':' and '-'");
  if (std::ranges::all_of(name, is_digit)) return invalid("must not be all digits (digits alone name a queue id)");
  return {};
}

Result<void> check_vm_name(std::string_view name) {
  if (name.size() > 64)
    return fail(Errc::invalid_argument, fmt::format("invalid VM name '{}': longer than 64 characters", name));
  if (!std::ranges::all_of(name, [](char c) { return c >= 0x20 && c < 0x7f; }))
    return fail(Errc::invalid_argument, "invalid VM name: only printable ASCII characters are allowed");
  return {};
}

Result<void> check_ifname(std::string_view name, std::string_view what) {
  const bool bad_char = std::ranges::any_of(name, [](char c) {
    return c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)) || c < 0x21 || c >= 0x7f;
  });
  if (name.empty() || name.size() > 15 || bad_char || name == "." || name == "..")
    return fail(Errc::invalid_argument,
                fmt::format("invalid {} name '{}': a network device name has 1 to 15 characters, "
                            "without '/', ':' or spaces",
                            what, name));
  return {};
}

Result<void> check_socket_path(std::string_view path) {
  auto invalid = [&](std::string_view why) {
    return fail(Errc::invalid_argument, fmt::format("invalid vhost-user socket path '{}': {}", path, why));
  };
  if (path.empty() || path.front() != '/') return invalid("must be an absolute path");
  if (path.size() > 107) return invalid("longer than a Unix socket address allows (107 bytes)");
  if (path.back() == '/') return invalid("names a directory");
  if (!std::ranges::all_of(path, [](char c) { return c >= 0x21 && c < 0x7f; }))
    return invalid("only printable ASCII characters without spaces are allowed");
  for (std::size_t start = 1; start <= path.size();) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return invalid("has an empty, '.' or '..' component");
    start = end + 1;
  }
  return {};
}

Result<void> check_port_name(PortKind kind, std::string_view port) {
  return kind == PortKind::vhost_user ? check_socket_path(port) : check_ifname(port, "port");
}

}  // namespace vmq
