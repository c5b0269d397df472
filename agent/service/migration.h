// The migration document: what `vmqctl migrate drain` writes on the source
// host and `vmqctl migrate restore` reads on the destination (vmq-spec F4,
// F13). Its record is api::MigrationDocument; here it is sealed with a
// checksum of everything else, and a document is read back only when it is
// of this format and version and its seal holds: a truncated, edited or
// foreign document is refused before anything is created.
#pragma once

#include <nlohmann/json.hpp>

#include "api/records.h"
#include "base/error.h"

namespace vmq::service {

// The document with its checksum set.
api::MigrationDocument sealed(api::MigrationDocument document);
// Checks format, version, checksum and every field.
Result<api::MigrationDocument> parse_migration_document(const nlohmann::json& j);

}  // namespace vmq::service
