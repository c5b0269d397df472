// The migration document: what `vmqctl migrate drain` writes on the source
// host and `vmqctl migrate restore` reads on the destination (vmq-spec F4,
// F13). It carries the queue's name, VM, filters, VLAN mode, parameters, CPU
// policy, counters at drain and the source host, under a format version and
// a checksum of everything else: a truncated, edited or foreign document is
// refused before anything is created.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/queue.h"

namespace vmq::service {

inline constexpr int kMigrationFormatVersion = 1;

struct MigrationDocument {
  std::string source_host;
  std::string drained_at;  // UTC, ISO 8601
  std::string name;
  std::string vm;
  std::string uplink;
  std::string port;
  unsigned cpu = 0;
  std::uint32_t frames = 0;
  VlanMode vlan_mode = VlanMode::trunk;
  bool paused_by_operator = false;
  std::vector<FilterMatch> filters;
  nlohmann::json counters;  // the queue's counters when it was drained
  std::uint64_t drained_frames = 0;
  std::uint64_t drain_us = 0;
};

nlohmann::json to_json(const MigrationDocument& document);
// Checks format, version, checksum and every field.
Result<MigrationDocument> parse_migration_document(const nlohmann::json& j);

}  // namespace vmq::service
