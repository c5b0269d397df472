// What `vmqctl migrate` prints for people about a drain or a restore.
#pragma once

#include <string>

#include "api/methods.h"

namespace vmq::cli {

// `output`: where the document was written; empty for stdout.
std::string drain_summary(const api::MigrateDrainReply& drained, const std::string& output);
std::string restore_summary(const api::MigrateRestoreReply& restored);

}  // namespace vmq::cli
