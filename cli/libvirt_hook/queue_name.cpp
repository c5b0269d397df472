#include "libvirt_hook/queue_name.h"

#include <cctype>
#include <cstdint>

#include <fmt/format.h>

namespace vmq::libvirt_hook {
namespace {

constexpr std::size_t kMaxQueueName = 64;
constexpr std::size_t kMacPart = 1 + 12;             // ".525400123456"
constexpr std::size_t kHashPart = 1 + 8;             // "_1a2b3c4d"
constexpr std::size_t kDomainPart = kMaxQueueName - kMacPart;

bool allowed(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == ':' || c == '-';
}

// FNV-1a: a fixed, documented hash, so names stay the same across versions.
std::uint32_t fnv1a(std::string_view text) {
  std::uint32_t hash = 2166136261u;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 16777619u;
  }
  return hash;
}

std::string domain_part(std::string_view domain) {
  std::string part;
  for (char c : domain) part += allowed(c) ? c : '_';
  if (part.empty() || std::isalnum(static_cast<unsigned char>(part.front())) == 0) part.insert(0, "vm");
  if (part == domain && part.size() <= kDomainPart) return part;
  part.resize(std::min(part.size(), kDomainPart - kHashPart));
  return fmt::format("{}_{:08x}", part, fnv1a(domain));
}

}  // namespace

std::string queue_name_for(std::string_view domain, const MacAddress& mac) {
  std::string hex;
  for (std::uint8_t byte : mac.bytes()) hex += fmt::format("{:02x}", byte);
  return domain_part(domain) + "." + hex;
}

}  // namespace vmq::libvirt_hook
