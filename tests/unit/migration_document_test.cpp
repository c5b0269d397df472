// The migration document: what the source writes the destination reads back
// unchanged; a document altered, truncated, from another version, or with a
// field of the wrong type (a fraction, a sign, a number too large: found by
// fuzzing) is refused with the field named, never narrowed into a value.
#include <gtest/gtest.h>

#include <zlib.h>

#include <string>

#include <fmt/format.h>

#include "core/mac_address.h"
#include "service/migration.h"

namespace vmq::service {
namespace {

using json = nlohmann::json;

MigrationDocument web1() {
  MigrationDocument d;
  d.source_host = "kvm-1";
  d.drained_at = "2026-12-02T17:00:00Z";
  d.name = "web1";
  d.vm = "vm-web1";
  d.uplink = "eth0";
  d.port = "vnet3";
  d.cpu = 1;
  d.frames = 512;
  d.vlan_mode = VlanMode::access;
  d.filters = {*FilterMatch::make(*MacAddress::parse("52:54:00:12:34:56"), 100)};
  d.counters = {{"received", {{"frames", 10}}}};
  d.drained_frames = 3;
  d.drain_us = 1200;
  return d;
}

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
  const json written = to_json(web1());
  auto parsed = parse_migration_document(written);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->name, "web1");
  EXPECT_EQ(parsed->cpu, 1u);
  EXPECT_EQ(parsed->frames, 512u);
  EXPECT_EQ(parsed->vlan_mode, VlanMode::access);
  ASSERT_EQ(parsed->filters.size(), 1u);
  EXPECT_EQ(parsed->filters[0], web1().filters[0]);
  EXPECT_EQ(to_json(*parsed), written);
}

TEST(MigrationDocument, RefusesAnEditWithoutAMatchingChecksum) {
  json document = to_json(web1());
  document["queue"]["frames"] = 1024;
  EXPECT_EQ(refusal(document), "migration document refused: the checksum does not match: the document was "
                               "truncated or modified");
}

TEST(MigrationDocument, RefusesAnotherFormatOrVersion) {
  json document = to_json(web1());
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
    json document = to_json(web1());
    document["drain"]["microseconds"] = bad;
    EXPECT_EQ(refusal(resealed(document)), "migration document refused: drain: 'microseconds' has the wrong type")
        << bad.dump();
  }
  // 32-bit fields also refuse what does not fit.
  for (const json& bad : {not_unsigned[0], not_unsigned[1], not_unsigned[2], json(4294967296ULL)}) {
    json document = to_json(web1());
    document["queue"]["frames"] = bad;
    EXPECT_EQ(refusal(resealed(document)), "migration document refused: queue: 'frames' has the wrong type")
        << bad.dump();
    document = to_json(web1());
    document["queue"]["cpu_policy"]["cpu"] = bad;
    EXPECT_EQ(refusal(resealed(document)), "migration document refused: queue.cpu_policy: 'cpu' has the wrong type")
        << bad.dump();
  }
}

TEST(MigrationDocument, NamesAMissingField) {
  json document = to_json(web1());
  document["queue"].erase("port");
  EXPECT_EQ(refusal(resealed(document)), "migration document refused: queue: 'port' is missing");
  document = to_json(web1());
  document["queue"] = "web1";
  EXPECT_EQ(refusal(resealed(document)), "migration document refused: the document: 'queue' has the wrong type");
  document = to_json(web1());
  document["queue"]["filters"] = json::object();
  EXPECT_EQ(refusal(resealed(document)), "migration document refused: queue: 'filters' must be an array");
  document = to_json(web1());
  document["queue"]["filters"] = json::array();
  EXPECT_EQ(refusal(resealed(document)), "migration document refused: the queue has no filters");
}

}  // namespace
}  // namespace vmq::service
