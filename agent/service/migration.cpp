#include "service/migration.h"

#include <zlib.h>

#include <fmt/format.h>

#include "core/names.h"

namespace vmq::service {

using json = nlohmann::json;

namespace {

// CRC-32 of the document's canonical form (keys sorted, no spaces) without
// its checksum: catches truncation, corruption and hand edits.
std::string checksum_of(json document) {
  document.erase("checksum");
  const std::string canonical = document.dump();
  const auto crc = crc32(0L, reinterpret_cast<const Bytef*>(canonical.data()), static_cast<uInt>(canonical.size()));
  return fmt::format("crc32:{:08x}", crc);
}

std::unexpected<Error> refuse(const std::string& why) {
  return std::unexpected(Error{Errc::invalid_argument, "migration document refused: " + why});
}

}  // namespace

api::MigrationDocument sealed(api::MigrationDocument document) {
  document.checksum = checksum_of(api::to_json(document));
  return document;
}

Result<api::MigrationDocument> parse_migration_document(const json& j) {
  if (!j.is_object()) return refuse("not a JSON object");
  const auto format = j.find("format");
  if (format == j.end() || !format->is_string() || format->get<std::string>() != api::kMigrationFormat)
    return refuse("not a vmq migration document");
  const auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer()) return refuse("no format version");
  if (version->get<long long>() != api::kMigrationFormatVersion)
    return refuse(fmt::format("format version {} is not supported (this vmqd reads version {})", version->dump(),
                              api::kMigrationFormatVersion));
  const auto checksum = j.find("checksum");
  if (checksum == j.end() || !checksum->is_string()) return refuse("no checksum");
  if (checksum->get<std::string>() != checksum_of(j))
    return refuse("the checksum does not match: the document was truncated or modified");

  auto document = api::from_json<api::MigrationDocument>(j);
  if (!document) return refuse(document.error().message);
  if (auto ok = check_queue_name(document->queue.settings.name); !ok) return refuse(ok.error().message);
  if (document->queue.filters.empty()) return refuse("the queue has no filters");
  return document;
}

}  // namespace vmq::service
