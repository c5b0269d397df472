// The migration document against anything `vmqctl migrate restore` may be
// given. Most mutations break the checksum, so inputs whose first byte is odd
// get a correct checksum first and reach the field checks. A document that
// parses, sealed again (fields it does not know are not kept), must write
// and parse again to the same document.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/codec.h"
#include "service/migration.h"

namespace {

using json = nlohmann::json;

// Computed here independently of migration.cpp: crc32 of the canonical dump
// (sorted keys, no spaces) without the checksum member.
void seal(json& document) {
  document.erase("checksum");
  const std::string canonical = document.dump();
  const auto crc = crc32(0L, reinterpret_cast<const Bytef*>(canonical.data()), static_cast<uInt>(canonical.size()));
  document["checksum"] = fmt::format("crc32:{:08x}", crc);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  json document = json::parse(data + 1, data + size, nullptr, false);
  if (document.is_discarded()) return 0;
  if ((data[0] & 1) != 0 && document.is_object()) seal(document);

  auto parsed = vmq::service::parse_migration_document(document);
  if (!parsed) return 0;
  const json written = vmq::api::to_json(vmq::service::sealed(*parsed));
  auto again = vmq::service::parse_migration_document(written);
  if (!again || vmq::api::to_json(*again) != written) __builtin_trap();
  return 0;
}
