// vmqd's saved state: a round trip of every field, atomic replacement, mode
// 0600, and every kind of bad file refused with its name and left untouched.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "service/state_store.h"
#include "unit/service_temp_dir.h"

namespace vmq::service {
namespace {

using json = nlohmann::json;
using test::TempDir;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

Filter filter(FilterId id, QueueId queue, const char* mac, std::optional<long> vlan) {
  return Filter{id, queue, *FilterMatch::make(*MacAddress::parse(mac), vlan)};
}

std::vector<SavedQueue> sample_state() {
  SavedQueue web;
  web.queue.id = 3;
  web.queue.name = "web1";
  web.queue.vm = "guest web (prod)";
  web.queue.uplink = "eth0";
  web.queue.port = "vnet7";
  web.queue.cpu = 1;
  web.queue.frames = 1024;
  web.queue.vlan_mode = VlanMode::access;
  web.queue.paused_by_operator = true;
  web.queue.cpu_pinned = true;
  web.queue.sub_queue_cpus = {1, 0};
  web.filters = {filter(5, 3, "52:54:00:aa:bb:cc", std::nullopt), filter(2, 3, "52:54:00:aa:bb:cc", 100),
                 filter(9, 3, "52:54:00:aa:bb:dd", 4094)};
  SavedQueue db;
  db.queue.id = 1;
  db.queue.name = "db";
  db.queue.vm = "";
  db.queue.uplink = "eth1";
  db.queue.port = "/run/vmq/vu/db.sock";
  db.queue.port_kind = PortKind::vhost_user;
  db.queue.cpu = 0;
  db.queue.frames = 64;
  db.queue.vlan_mode = VlanMode::trunk;
  db.queue.paused_by_operator = false;
  return {web, db};
}

// A minimal valid file, as JSON, for the refusal cases to spoil.
json valid_document() {
  return json::parse(R"({
    "format": "vmq-state",
    "version": 2,
    "queues": [{
      "id": 1, "name": "web1", "vm": "", "uplink": "eth0", "port": "vnet1", "cpu": 0, "frames": 512,
      "vlan_mode": "trunk", "paused_by_operator": false,
      "filters": [{"id": 1, "mac": "52:54:00:00:00:01", "vlan": null}, {"id": 2, "mac": "52:54:00:00:00:01", "vlan": 7}]
    }]
  })");
}

class StateStoreTest : public ::testing::Test {
 protected:
  std::string state_file() const { return store.path(); }

  // Writes `content` as the state file; load() must refuse it, name the file,
  // and leave it byte for byte as it was. Returns the message.
  std::string refused(const std::string& content) {
    test::write_file(state_file(), content);
    Result<std::vector<SavedQueue>> loaded = std::vector<SavedQueue>{};
    try {
      loaded = store.load();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "load() threw: " << e.what();
      return "threw";
    }
    if (loaded) {
      ADD_FAILURE() << "accepted:\n" << content;
      return {};
    }
    EXPECT_EQ(loaded.error().code, Errc::invalid_argument);
    const std::string& message = loaded.error().message;
    EXPECT_TRUE(contains(message, "state file " + state_file() + ": ")) << message;
    EXPECT_TRUE(contains(message, "it was left untouched")) << message;
    EXPECT_EQ(test::read_file(state_file()), content) << "the refused file was modified";
    return message;
  }
  std::string refused_json(const json& document) { return refused(document.dump(2)); }

  TempDir dir;
  StateStore store{dir.path()};
};

TEST_F(StateStoreTest, MissingFileIsAnEmptyList) {
  auto loaded = store.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_TRUE(loaded->empty());
  EXPECT_FALSE(std::filesystem::exists(state_file())) << "loading must not create the file";
}

TEST_F(StateStoreTest, MissingDirectoryIsAnEmptyListAndSaveCreatesIt) {
  const StateStore nested(dir.file("a/b"));
  auto loaded = nested.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_TRUE(loaded->empty());
  auto saved = nested.save(sample_state());
  ASSERT_TRUE(saved) << saved.error().message;
  EXPECT_TRUE(std::filesystem::exists(dir.file("a/b/state.json")));
}

TEST_F(StateStoreTest, PathIsStateJsonInTheDirectory) { EXPECT_EQ(store.path(), dir.path() + "/state.json"); }

TEST_F(StateStoreTest, SaveThenLoadKeepsEveryField) {
  const auto state = sample_state();
  auto saved = store.save(state);
  ASSERT_TRUE(saved) << saved.error().message;
  auto loaded = store.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->size(), state.size());
  for (std::size_t i = 0; i < state.size(); ++i) {
    SCOPED_TRACE(state[i].queue.name);
    const Queue& want = state[i].queue;
    const Queue& got = (*loaded)[i].queue;
    EXPECT_EQ(got.id, want.id);
    EXPECT_EQ(got.name, want.name);
    EXPECT_EQ(got.vm, want.vm);
    EXPECT_EQ(got.uplink, want.uplink);
    EXPECT_EQ(got.port, want.port);
    EXPECT_EQ(got.port_kind, want.port_kind);
    EXPECT_EQ(got.cpu, want.cpu);
    EXPECT_EQ(got.frames, want.frames);
    EXPECT_EQ(got.vlan_mode, want.vlan_mode);
    EXPECT_EQ(got.paused_by_operator, want.paused_by_operator);
    EXPECT_EQ(got.cpu_pinned, want.cpu_pinned);
    EXPECT_EQ(got.sub_queue_cpus, want.sub_queue_cpus);
    ASSERT_EQ((*loaded)[i].filters.size(), state[i].filters.size());
    for (std::size_t f = 0; f < state[i].filters.size(); ++f) {
      const Filter& wf = state[i].filters[f];
      const Filter& gf = (*loaded)[i].filters[f];
      EXPECT_EQ(gf.id, wf.id) << "filter order and ids are kept";
      EXPECT_EQ(gf.queue, want.id);
      EXPECT_EQ(gf.match, wf.match) << wf.match.describe() << " came back as " << gf.match.describe();
    }
  }
  EXPECT_TRUE((*loaded)[0].filters[0].match.untagged());
  EXPECT_EQ((*loaded)[0].filters[1].match.vlan, 100);
}

TEST_F(StateStoreTest, QueuesOfFilesWithoutACpuModeLoadPinned) {
  test::write_file(state_file(), valid_document().dump());
  auto loaded = store.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_TRUE(loaded->front().queue.cpu_pinned) << "an upgrade never lets the rebalancer move a queue by itself";
  json document = valid_document();
  document["queues"][0]["cpu_pinned"] = false;
  test::write_file(state_file(), document.dump());
  loaded = store.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_FALSE(loaded->front().queue.cpu_pinned);
  document["queues"][0]["cpu_pinned"] = "auto";
  EXPECT_TRUE(contains(refused_json(document), "queues[0].cpu_pinned must be true or false"));
}

TEST_F(StateStoreTest, QueuesOfFilesWithoutAPortKindHaveNetdevPorts) {
  json document = valid_document();
  ASSERT_FALSE(document["queues"][0].contains("port_kind"));
  test::write_file(state_file(), document.dump());
  auto loaded = store.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->front().queue.port_kind, PortKind::netdev);
  document["queues"][0]["port_kind"] = "vhost";
  EXPECT_TRUE(contains(refused_json(document), "invalid port kind 'vhost'"));
}

TEST_F(StateStoreTest, SavedFileIsReadableVmqStateJson) {
  ASSERT_TRUE(store.save(sample_state()));
  const json doc = json::parse(test::read_file(state_file()));
  EXPECT_EQ(doc.at("format"), "vmq-state");
  EXPECT_EQ(doc.at("version"), kStateFormatVersion);
  ASSERT_EQ(doc.at("queues").size(), 2u);
  const json& web = doc.at("queues").at(0);
  EXPECT_EQ(web.at("vlan_mode"), "access");
  EXPECT_EQ(web.at("paused_by_operator"), true) << "named as in the control API's replies";
  EXPECT_FALSE(web.contains("paused"));
  EXPECT_TRUE(web.at("filters").at(0).at("vlan").is_null()) << "untagged is null";
  EXPECT_EQ(web.at("filters").at(1).at("vlan"), 100);
  EXPECT_EQ(web.at("filters").at(0).at("mac"), "52:54:00:aa:bb:cc");
}

TEST_F(StateStoreTest, SavingAnEmptyListLoadsAsEmpty) {
  ASSERT_TRUE(store.save(sample_state()));
  ASSERT_TRUE(store.save({}));
  auto loaded = store.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_TRUE(loaded->empty());
}

TEST_F(StateStoreTest, SaveReplacesThePreviousStateAndLeavesNoTemporaryFile) {
  ASSERT_TRUE(store.save(sample_state()));
  auto smaller = sample_state();
  smaller.pop_back();
  smaller[0].queue.name = "renamed";
  ASSERT_TRUE(store.save(smaller));
  EXPECT_FALSE(std::filesystem::exists(state_file() + ".tmp"));
  auto loaded = store.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].queue.name, "renamed");
}

TEST_F(StateStoreTest, StateFileIsPrivateWhateverTheUmask) {
  const mode_t old = ::umask(0);
  auto saved = store.save(sample_state());
  ::umask(old);
  ASSERT_TRUE(saved) << saved.error().message;
  EXPECT_EQ(test::file_mode(state_file()), 0600u);
}

TEST_F(StateStoreTest, LeftoverTemporaryFileFromACrashDoesNotAffectLoad) {
  ASSERT_TRUE(store.save(sample_state()));
  const std::string before = test::read_file(state_file());
  // A crash between creating the temporary file and renaming it.
  test::write_file(state_file() + ".tmp", R"({"format":"vmq-state","version":1,"queues":[{"id":)");
  auto loaded = store.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->size(), 2u);
  EXPECT_EQ(test::read_file(state_file()), before);

  // The next save overwrites the leftover and renames it into place.
  auto one = sample_state();
  one.resize(1);
  ASSERT_TRUE(store.save(one));
  EXPECT_FALSE(std::filesystem::exists(state_file() + ".tmp"));
  auto reloaded = store.load();
  ASSERT_TRUE(reloaded) << reloaded.error().message;
  EXPECT_EQ(reloaded->size(), 1u);
}

TEST_F(StateStoreTest, OnlyATemporaryFileMeansNothingWasSaved) {
  test::write_file(state_file() + ".tmp", valid_document().dump());
  auto loaded = store.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_TRUE(loaded->empty()) << "an unrenamed temporary file was never committed";
}

TEST_F(StateStoreTest, LeftoverTemporaryFileDoesNotPassItsModeOnToTheState) {
  test::write_file(state_file() + ".tmp", "leftover");
  ASSERT_EQ(::chmod((state_file() + ".tmp").c_str(), 0644), 0);
  ASSERT_TRUE(store.save(sample_state()));
  // The leftover is replaced, not reused with its mode.
  EXPECT_EQ(test::file_mode(state_file()), 0600u) << std::oct << test::file_mode(state_file());
  EXPECT_FALSE(std::filesystem::exists(state_file() + ".tmp"));
  auto loaded = store.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->size(), 2u);
}

TEST_F(StateStoreTest, FailedSaveLeavesThePreviousStateIntact) {
  ASSERT_TRUE(store.save(sample_state()));
  const std::string before = test::read_file(state_file());
  // The temporary file cannot be created: a directory is in the way.
  ASSERT_TRUE(std::filesystem::create_directory(state_file() + ".tmp"));
  auto one = sample_state();
  one.resize(1);
  auto saved = store.save(one);
  ASSERT_FALSE(saved);
  EXPECT_EQ(saved.error().code, Errc::system);
  EXPECT_TRUE(contains(saved.error().message, state_file() + ".tmp")) << saved.error().message;
  EXPECT_EQ(test::read_file(state_file()), before);
  auto loaded = store.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->size(), 2u);
}

TEST_F(StateStoreTest, SaveIntoAFileInsteadOfADirectoryFails) {
  test::write_file(dir.file("plain"), "x");
  const StateStore bad(dir.file("plain"));
  auto saved = bad.save(sample_state());
  ASSERT_FALSE(saved);
  EXPECT_EQ(saved.error().code, Errc::system);
  EXPECT_TRUE(contains(saved.error().message, dir.file("plain"))) << saved.error().message;
}

TEST_F(StateStoreTest, ValidDocumentOfTheTestsIsAccepted) {
  // The refusal cases below each spoil one thing of this document.
  test::write_file(state_file(), valid_document().dump());
  auto loaded = store.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].filters.size(), 2u);
  EXPECT_EQ((*loaded)[0].filters[1].match.vlan, 7);
}

TEST_F(StateStoreTest, CorruptOrTruncatedFilesAreRefused) {
  EXPECT_TRUE(contains(refused("{not json"), "not valid JSON (corrupt or truncated)"));
  EXPECT_TRUE(contains(refused(""), "not valid JSON"));
  EXPECT_TRUE(contains(refused(std::string("\0\0\0\0", 4)), "not valid JSON"));
  EXPECT_TRUE(contains(refused("[]"), "not valid JSON"));
  ASSERT_TRUE(store.save(sample_state()));
  const std::string whole = test::read_file(state_file());
  for (std::size_t cut : {whole.size() / 2, whole.size() - 3, std::size_t{1}}) {
    SCOPED_TRACE(cut);
    EXPECT_TRUE(contains(refused(whole.substr(0, cut)), "not valid JSON (corrupt or truncated)"));
  }
}

TEST_F(StateStoreTest, FilesThatAreNotVmqStateAreRefused) {
  json doc = valid_document();
  doc["format"] = "libvirt-state";
  EXPECT_TRUE(contains(refused_json(doc), ": not a vmq state file;"));
  doc.erase("format");
  EXPECT_TRUE(contains(refused_json(doc), ": not a vmq state file;"));
}

TEST_F(StateStoreTest, NonStringFormatIsRefusedWithoutThrowing) {
  json doc = valid_document();
  doc["format"] = 1;
  // refused() fails the test if load() throws.
  EXPECT_TRUE(contains(refused_json(doc), ": not a vmq state file;"));
  doc["format"] = json::array({"vmq-state"});
  EXPECT_TRUE(contains(refused_json(doc), ": not a vmq state file;"));
}

TEST_F(StateStoreTest, FormatVersionsOtherThanOneAndTwoAreRefused) {
  json doc = valid_document();
  doc["version"] = 3;
  EXPECT_TRUE(contains(refused_json(doc), ": written by a newer vmqd (format 3, this vmqd reads up to 2);"));
  doc["version"] = 0;
  EXPECT_TRUE(contains(refused_json(doc), ": unknown format version 0;"));
  doc["version"] = -3;
  EXPECT_TRUE(contains(refused_json(doc), ": unknown format version -3;"));
  doc["version"] = UINT64_MAX;  // not wrapped to -1
  EXPECT_TRUE(contains(refused_json(doc),
                       ": written by a newer vmqd (format 18446744073709551615, this vmqd reads up to 2);"));
  doc["version"] = "1";
  EXPECT_TRUE(contains(refused_json(doc), ": no format version;"));
  doc["version"] = 1.0;
  EXPECT_TRUE(contains(refused_json(doc), ": no format version;"));
  doc.erase("version");
  EXPECT_TRUE(contains(refused_json(doc), ": no format version;"));
}

TEST_F(StateStoreTest, QueuesMustBeAnArrayOfObjects) {
  json doc = valid_document();
  doc["queues"] = json::object();
  EXPECT_TRUE(contains(refused_json(doc), ": queues must be an array;"));
  doc.erase("queues");
  EXPECT_TRUE(contains(refused_json(doc), ": queues is missing;"));
  doc["queues"] = json::array({1});
  EXPECT_TRUE(contains(refused_json(doc), ": queues[0] must be an object;"));
}

TEST_F(StateStoreTest, MissingOrMistypedQueueFieldsAreRefusedWithTheField) {
  struct Case {
    const char* field;
    json value;  // null: remove the field
    const char* message;
  };
  const Case cases[] = {
      {"name", nullptr, "queues[0].name is missing"},
      {"id", nullptr, "queues[0].id is missing"},
      {"paused_by_operator", nullptr, "queues[0].paused_by_operator is missing"},
      {"name", 5, "queues[0].name must be a string"},
      {"vm", json::array(), "queues[0].vm must be a string"},
      {"uplink", true, "queues[0].uplink must be a string"},
      {"port", json::object(), "queues[0].port must be a string"},
      {"id", "1", "queues[0].id must be an integer from 0 to 4294967295"},
      {"cpu", "0", "queues[0].cpu must be an integer from 0 to 4294967295"},
      {"frames", "512", "queues[0].frames must be an integer from 0 to 4294967295"},
      {"paused_by_operator", "no", "queues[0].paused_by_operator must be true or false"},
      {"paused_by_operator", 0, "queues[0].paused_by_operator must be true or false"},
      {"vlan_mode", 1, "queues[0].vlan_mode must be a string"},
      {"vlan_mode", "hybrid", "queues[0].vlan_mode: invalid VLAN mode 'hybrid' (expected access or trunk)"},
      {"filters", nullptr, "queues[0].filters is missing"},
      {"filters", json::object(), "queues[0].filters must be an array"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.field) + " = " + c.value.dump());
    json doc = valid_document();
    if (c.value.is_null())
      doc["queues"][0].erase(c.field);
    else
      doc["queues"][0][c.field] = c.value;
    EXPECT_TRUE(contains(refused_json(doc), std::string(": ") + c.message + ";"));
  }
}

TEST_F(StateStoreTest, NumbersOutOfTheirFieldsRangeAreRefused) {
  // nlohmann's get<unsigned>() converts these silently: -1 becomes 4294967295.
  struct Case {
    const char* field;
    json value;
  };
  const Case cases[] = {{"cpu", -1},   {"id", -1},        {"frames", 1.5},       {"cpu", true},
                        {"cpu", 4e9},  {"frames", -512},  {"cpu", 4294967296ull}, {"id", json::array({1})}};
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.field) + " = " + c.value.dump());
    json doc = valid_document();
    doc["queues"][0][c.field] = c.value;
    EXPECT_TRUE(contains(refused_json(doc),
                         std::string(": queues[0].") + c.field + " must be an integer from 0 to 4294967295;"));
  }
}

TEST_F(StateStoreTest, BadFiltersAreRefusedWithTheQueueAndFilterIndex) {
  struct Case {
    json filter;
    const char* message;
  };
  const Case cases[] = {
      {json::parse(R"({"id":3,"mac":"52:54:00:zz:00:01","vlan":null})"),
       "queues[0].filters[1].mac: invalid MAC address '52:54:00:zz:00:01'"},
      {json::parse(R"({"id":3,"mac":"52:54:00:00:01","vlan":null})"),
       "queues[0].filters[1].mac: invalid MAC address '52:54:00:00:01'"},
      {json::parse(R"({"id":3,"mac":"01:00:5e:00:00:01","vlan":null})"),
       "queues[0].filters[1].mac: MAC 01:00:5e:00:00:01 is a broadcast/multicast address"},
      {json::parse(R"({"id":3,"mac":"00:00:00:00:00:00"})"),
       "queues[0].filters[1].mac: MAC 00:00:00:00:00:00 cannot be a filter"},
      {json::parse(R"({"id":3,"mac":"52:54:00:00:00:02","vlan":0})"), "queues[0].filters[1].vlan: VLAN 0 out of range 1..4094"},
      {json::parse(R"({"id":3,"mac":"52:54:00:00:00:02","vlan":4095})"),
       "queues[0].filters[1].vlan: VLAN 4095 out of range 1..4094"},
      {json::parse(R"({"id":3,"mac":"52:54:00:00:00:02","vlan":-5})"), "queues[0].filters[1].vlan: VLAN -5 out of range"},
      // Named as written, not as what a narrowing to long made of it (-1).
      {json::parse(R"({"id":3,"mac":"52:54:00:00:00:02","vlan":18446744073709551615})"),
       "queues[0].filters[1].vlan: VLAN 18446744073709551615 out of range 1..4094"},
      {json::parse(R"({"id":3,"mac":"52:54:00:00:00:02","vlan":"100"})"), "queues[0].filters[1].vlan must be an integer (null: untagged)"},
      {json::parse(R"({"id":3,"mac":"52:54:00:00:00:02","vlan":1.5})"),
       "queues[0].filters[1].vlan must be an integer (null: untagged)"},
      {json::parse(R"({"mac":"52:54:00:00:00:02"})"), "queues[0].filters[1].id is missing"},
      {json::parse(R"({"id":3})"), "queues[0].filters[1].mac is missing"},
      {json::parse(R"({"id":3,"mac":5})"), "queues[0].filters[1].mac must be a string"},
      {json::parse(R"("52:54:00:00:00:02")"), "queues[0].filters[1] must be an object"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.filter.dump());
    json doc = valid_document();
    doc["queues"][0]["filters"][1] = c.filter;
    EXPECT_TRUE(contains(refused_json(doc), std::string(": ") + c.message)) << c.message;
  }
}

TEST_F(StateStoreTest, AnErrorInALaterQueueNamesThatQueue) {
  json doc = valid_document();
  json second = doc["queues"][0];
  second["id"] = 2;
  second["filters"][0]["vlan"] = 4095;
  doc["queues"].push_back(second);
  EXPECT_TRUE(contains(refused_json(doc), ": queues[1].filters[0].vlan: VLAN 4095 out of range"));
}

// Format 1, written by vmqd before the state file said paused_by_operator.
TEST_F(StateStoreTest, AFormatOneFileLoadsAndIsSavedAsFormatTwo) {
  test::write_file(state_file(), R"({
    "format": "vmq-state",
    "version": 1,
    "queues": [{
      "id": 3, "name": "web1", "vm": "guest", "uplink": "eth0", "port": "vnet7", "cpu": 1, "frames": 1024,
      "vlan_mode": "access", "paused": true,
      "filters": [{"id": 5, "mac": "52:54:00:aa:bb:cc", "vlan": null}, {"id": 2, "mac": "52:54:00:aa:bb:cc", "vlan": 100}]
    }, {
      "id": 1, "name": "db", "vm": "", "uplink": "eth1", "port": "vnet2", "cpu": 0, "frames": 64,
      "vlan_mode": "trunk", "paused": false, "filters": []
    }]
  })");
  auto loaded = store.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_TRUE((*loaded)[0].queue.paused_by_operator);
  EXPECT_FALSE((*loaded)[1].queue.paused_by_operator);
  EXPECT_EQ((*loaded)[0].queue.vlan_mode, VlanMode::access);
  ASSERT_EQ((*loaded)[0].filters.size(), 2u);
  EXPECT_EQ((*loaded)[0].filters[1].id, 2u);
  EXPECT_EQ((*loaded)[0].filters[1].match.vlan, 100);

  ASSERT_TRUE(store.save(*loaded));
  const json resaved = json::parse(test::read_file(state_file()));
  EXPECT_EQ(resaved.at("version"), 2);
  EXPECT_EQ(resaved.at("queues").at(0).at("paused_by_operator"), true);
  EXPECT_FALSE(resaved.at("queues").at(0).contains("paused"));
}

TEST_F(StateStoreTest, AFormatOneFileWithoutPausedIsRefused) {
  json doc = valid_document();
  doc["version"] = 1;
  doc["queues"][0].erase("paused_by_operator");
  EXPECT_TRUE(contains(refused_json(doc), ": queues[0].paused is missing;"));
  doc["queues"][0]["paused"] = "yes";
  EXPECT_TRUE(contains(refused_json(doc), ": queues[0].paused_by_operator must be true or false;"));
}

}  // namespace
}  // namespace vmq::service
