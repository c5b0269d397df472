#include "service/migration.h"

#include <zlib.h>

#include <fmt/format.h>

#include "core/names.h"
#include "service/params.h"

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

json to_json(const MigrationDocument& d) {
  json filters = json::array();
  for (const auto& f : d.filters)
    filters.push_back({{"mac", f.mac.to_string()}, {"vlan", f.untagged() ? json(nullptr) : json(f.vlan)}});
  json j{{"format", "vmq-migration"},
         {"version", kMigrationFormatVersion},
         {"source_host", d.source_host},
         {"drained_at", d.drained_at},
         {"queue",
          {{"name", d.name},
           {"vm", d.vm},
           {"uplink", d.uplink},
           {"port", d.port},
           {"frames", d.frames},
           {"vlan_mode", to_string(d.vlan_mode)},
           {"paused_by_operator", d.paused_by_operator},
           {"cpu_policy", {{"cpu", d.cpu}}},
           {"filters", filters}}},
         {"counters_at_drain", d.counters},
         {"drain", {{"frames", d.drained_frames}, {"microseconds", d.drain_us}}}};
  j["checksum"] = checksum_of(j);
  return j;
}

Result<MigrationDocument> parse_migration_document(const json& j) {
  if (!j.is_object()) return refuse("not a JSON object");
  if (j.value("format", "") != "vmq-migration") return refuse("not a vmq migration document");
  const auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer()) return refuse("no format version");
  if (version->get<long long>() != kMigrationFormatVersion)
    return refuse(fmt::format("format version {} is not supported (this vmqd reads version {})", version->dump(),
                              kMigrationFormatVersion));
  const auto checksum = j.find("checksum");
  if (checksum == j.end() || !checksum->is_string()) return refuse("no checksum");
  if (checksum->get<std::string>() != checksum_of(j))
    return refuse("the checksum does not match: the document was truncated or modified");

  MigrationDocument d;
  try {
    d.source_host = j.at("source_host").get<std::string>();
    d.drained_at = j.at("drained_at").get<std::string>();
    const json& q = j.at("queue");
    d.name = q.at("name").get<std::string>();
    d.vm = q.at("vm").get<std::string>();
    d.uplink = q.at("uplink").get<std::string>();
    d.port = q.at("port").get<std::string>();
    d.frames = q.at("frames").get<std::uint32_t>();
    d.paused_by_operator = q.at("paused_by_operator").get<bool>();
    d.cpu = q.at("cpu_policy").at("cpu").get<unsigned>();
    auto mode = parse_vlan_mode(q.at("vlan_mode").get<std::string>());
    if (!mode) return refuse(mode.error().message);
    d.vlan_mode = *mode;
    for (const json& f : q.at("filters")) {
      auto match = filter_match_from(f, "a filter");
      if (!match) return refuse(match.error().message);
      d.filters.push_back(*match);
    }
    d.counters = j.at("counters_at_drain");
    d.drained_frames = j.at("drain").at("frames").get<std::uint64_t>();
    d.drain_us = j.at("drain").at("microseconds").get<std::uint64_t>();
  } catch (const json::exception& e) {
    return refuse(fmt::format("a field is missing or has the wrong type ({})", e.what()));
  }
  if (auto ok = check_queue_name(d.name); !ok) return refuse(ok.error().message);
  if (d.filters.empty()) return refuse("the queue has no filters");
  return d;
}

}  // namespace vmq::service
