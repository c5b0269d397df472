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

}  // namespace vmq
