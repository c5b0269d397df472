// The migration document: what the source writes the destination reads back
// unchanged; a document altered, truncated, from another version, or with a
// field of the wrong type (a fraction, a sign, a number too large: found by
// fuzzing) is refused with the field's path named, never narrowed into a value.
#include <gtest/gtest.h>

#include <zlib.h>

#include <string>
#include <type_traits>

#include <fmt/format.h>

#include "api/codec.h"
#include "api/records.h"
#include "api/views.h"
#include "core/filter.h"
#include "service/api_records.h"
#include "service/migration.h"

namespace vmq::service {
namespace {

using json = nlohmann::json;

api::MigrationDocument web1_document() {
  api::MigrationDocument d;
  d.source_host = "kvm-1";
  d.drained_at = "2026-12-02T17:00:00Z";
  d.queue.settings = {"web1", "vm-web1", "eth0", "vnet3", 512, VlanMode::access, false};
  d.queue.cpu_policy.cpu = 1;
  d.queue.filters = {rule_of(*FilterMatch::make(*MacAddress::parse("52:54:00:12:34:56"), 100))};
  d.counters_at_drain.received = 10;
  d.drain = {3, 1200};
  return sealed(d);
}

json web1() { return api::to_json(web1_document()); }

// A document edited after writing, with its checksum made right again: what
// a hand edit or a bug on the source would give, past the checksum check.
json resealed(json document) {
  document.erase("checksum");
  const std::string canonical = document.dump();
  const auto crc = crc32(0L, reinterpret_cast<const Bytef*>(canonical.data()), static_cast<uInt>(canonical.size()));
  document["checksum"] = fmt::format("crc32:{:08x}", crc);
  return document;
}

std::string refusal(const json& document) {
  auto parsed = parse_migration_document(document);
  if (parsed) return "accepted";
  EXPECT_EQ(parsed.error().code, Errc::invalid_argument);
  return parsed.error().message;
}

TEST(MigrationDocument, ReadsBackWhatWasWritten) {
  const json written = web1();
  EXPECT_EQ(written.at("format"), "vmq-migration");
  EXPECT_EQ(written.at("queue").at("cpu_policy"), json({{"cpu", 1}}));
  EXPECT_EQ(written.at("queue").at("filters"), json::parse(R"([{"mac": "52:54:00:12:34:56", "vlan": 100}])"));
  auto parsed = parse_migration_document(json::parse(written.dump()));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(*parsed, web1_document());
  EXPECT_EQ(api::to_json(*parsed), written);
}

// The queue record of a migration document is the state file's and the
// replies': one type, api::QueueSettings, and one filter rule, api::FilterRule.
TEST(MigrationDocument, SharesItsQueueAndFilterRecordsWithTheStateFile) {
  static_assert(std::is_same_v<decltype(api::MigratedQueue::settings), decltype(api::StoredQueue::settings)>);
  static_assert(std::is_same_v<decltype(api::MigratedQueue::filters)::value_type, decltype(api::StoredFilter::rule)>);
  static_assert(std::is_same_v<decltype(api::MigratedQueue::settings), decltype(api::Queue::settings)>);
  const api::MigrationDocument d = web1_document();
  const api::StoredQueue stored{3, 1, true, d.queue.settings, {{1, d.queue.filters[0]}}};
  json from_document = api::to_json(d).at("queue");
  json from_state = api::to_json(stored);
  for (const char* key : {"name", "vm", "uplink", "port", "frames", "vlan_mode", "paused_by_operator"})
    EXPECT_EQ(from_document.at(key), from_state.at(key)) << key;
  from_state.at("filters").at(0).erase("id");
  EXPECT_EQ(from_document.at("filters"), from_state.at("filters"));
}

TEST(MigrationDocument, RefusesAnEditWithoutAMatchingChecksum) {
  json document = web1();
  document["queue"]["frames"] = 1024;
  EXPECT_EQ(refusal(document), "migration document refused: the checksum does not match: the document was "
                               "truncated or modified");
}

TEST(MigrationDocument, RefusesAnotherFormatOrVersion) {
  json document = web1();
  document["version"] = 2;
  EXPECT_EQ(refusal(resealed(document)),
            "migration document refused: format version 2 is not supported (this vmqd reads version 1)");
  EXPECT_EQ(refusal(json::array()), "migration document refused: not a JSON object");
  EXPECT_EQ(refusal(json{{"format", "vmq-state"}}), "migration document refused: not a vmq migration document");
  // A format that is not a string: found by fuzzing (json::value threw).
  EXPECT_EQ(refusal(json{{"format", 1}}), "migration document refused: not a vmq migration document");
}

TEST(MigrationDocument, RefusesNumbersThatAreNotExactlyTheFieldsType) {
  const json not_unsigned[] = {json(8.88889e+63), json(-1), json(1.5), json(true), json("512")};
  for (const json& bad : not_unsigned) {
    json document = web1();
    document["drain"]["microseconds"] = bad;
    EXPECT_EQ(refusal(resealed(document)),
              "migration document refused: drain.microseconds must be an integer from 0 to 18446744073709551615")
        << bad.dump();
  }
  // 32-bit fields also refuse what does not fit.
  for (const json& bad : {not_unsigned[0], not_unsigned[1], not_unsigned[2], json(4294967296ULL)}) {
    json document = web1();
    document["queue"]["frames"] = bad;
    EXPECT_EQ(refusal(resealed(document)),
              "migration document refused: queue.frames must be an integer from 0 to 4294967295")
        << bad.dump();
    document = web1();
    document["queue"]["cpu_policy"]["cpu"] = bad;
    EXPECT_EQ(refusal(resealed(document)),
              "migration document refused: queue.cpu_policy.cpu must be an integer from 0 to 4294967295")
        << bad.dump();
  }
}

TEST(MigrationDocument, NamesAMissingField) {
  json document = web1();
  document["queue"].erase("port");
  EXPECT_EQ(refusal(resealed(document)), "migration document refused: queue.port is missing");
  document = web1();
  document["queue"] = "web1";
  EXPECT_EQ(refusal(resealed(document)), "migration document refused: queue must be an object");
  document = web1();
  document["queue"]["filters"] = json::object();
  EXPECT_EQ(refusal(resealed(document)), "migration document refused: queue.filters must be an array");
  document = web1();
  document["queue"]["filters"][0]["vlan"] = 4095;
  EXPECT_EQ(refusal(resealed(document)),
            "migration document refused: queue.filters[0].vlan: VLAN 4095 out of range 1..4094 (use --untagged for "
            "untagged and priority-tagged frames)");
  document = web1();
  document["counters_at_drain"].erase("xsk");
  EXPECT_EQ(refusal(resealed(document)), "migration document refused: counters_at_drain.xsk is missing");
  document = web1();
  document["queue"]["filters"] = json::array();
  EXPECT_EQ(refusal(resealed(document)), "migration document refused: the queue has no filters");
}

}  // namespace
}  // namespace vmq::service
