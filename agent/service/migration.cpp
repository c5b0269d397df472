#include "service/migration.h"

#include <zlib.h>

#include <fmt/format.h>

#include "core/names.h"
#include "service/json_record.h"
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
  const auto format = j.find("format");
  if (format == j.end() || !format->is_string() || format->get<std::string>() != "vmq-migration")
    return refuse("not a vmq migration document");
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
  nlohmann::json queue, cpu_policy, drain;
  RecordReader document(j, "the document");
  document.read("source_host", d.source_host);
  document.read("drained_at", d.drained_at);
  document.read("queue", queue);
  document.read("counters_at_drain", d.counters);
  document.read("drain", drain);
  if (document.error()) return refuse(document.error()->message);

  RecordReader q(queue, "queue");
  q.read("name", d.name);
  q.read("vm", d.vm);
  q.read("uplink", d.uplink);
  q.read("port", d.port);
  q.read("frames", d.frames);
  q.read("paused_by_operator", d.paused_by_operator);
  q.read("cpu_policy", cpu_policy);
  std::string vlan_mode;
  q.read("vlan_mode", vlan_mode);
  if (q.error()) return refuse(q.error()->message);
  RecordReader policy(cpu_policy, "queue.cpu_policy");
  policy.read("cpu", d.cpu);
  RecordReader drained(drain, "drain");
  drained.read("frames", d.drained_frames);
  drained.read("microseconds", d.drain_us);
  for (const auto* reader : {&policy, &drained})
    if (reader->error()) return refuse(reader->error()->message);

  auto mode = parse_vlan_mode(vlan_mode);
  if (!mode) return refuse(mode.error().message);
  d.vlan_mode = *mode;
  const auto filters = queue.find("filters");
  if (filters == queue.end() || !filters->is_array()) return refuse("queue: 'filters' must be an array");
  for (const json& f : *filters) {
    auto match = filter_match_from(f, "a filter");
    if (!match) return refuse(match.error().message);
    d.filters.push_back(*match);
  }
  if (auto ok = check_queue_name(d.name); !ok) return refuse(ok.error().message);
  if (d.filters.empty()) return refuse("the queue has no filters");
  return d;
}

}  // namespace vmq::service
