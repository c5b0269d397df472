// The control protocol's typed records (agent/api): every method's
// parameters and reply survive to_json and from_json unchanged; a field
// missing, renamed, null where it may not be, or of another type is refused
// naming its path; fields a newer agent adds are tolerated; the wire keeps
// docs/json.md's names and null conventions.
#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "api/client.h"
#include "api/methods.h"
#include "unit/api_samples.h"

namespace vmq::api {
namespace {

template <typename T>
void expect_round_trip(const char* what) {
  SCOPED_TRACE(what);
  const T value = test::sample<T>();
  const json written = to_json(value);
  auto read = from_json<T>(written);
  ASSERT_TRUE(read) << read.error().message << "\n" << written.dump(2);
  EXPECT_EQ(to_json(*read), written);
  // Through the wire's text too: numbers come back as unsigned JSON integers.
  auto from_text = from_json<T>(json::parse(written.dump()));
  ASSERT_TRUE(from_text) << from_text.error().message;
  EXPECT_EQ(to_json(*from_text), written);
  if constexpr (std::equality_comparable<T>) {
    EXPECT_TRUE(*read == value);
  }
}

template <typename Params>
void expect_params_round_trip(const char* what) {
  SCOPED_TRACE(what);
  const json written = to_json(test::sample<Params>());
  auto read = params_from_json<Params>(json::parse(written.dump()));
  ASSERT_TRUE(read) << read.error().message << "\n" << written.dump(2);
  EXPECT_EQ(to_json(*read), written);
}

TEST(ApiCodec, EveryMethodsParametersAndReplyRoundTrip) {
  std::apply(
      [](auto... method) {
        ((expect_params_round_trip<typename decltype(method)::Params>(decltype(method)::name.data()),
          expect_round_trip<typename decltype(method)::Reply>(decltype(method)::name.data())),
         ...);
      },
      Methods{});
}

TEST(ApiCodec, RecordsRoundTrip) {
  for (const auto& rule : {test::tagged_rule(), test::untagged_rule()}) {
    auto read = from_json<FilterRule>(to_json(rule));
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(*read, rule);
  }
  const StoredQueue stored{3, 2, false, test::sample_settings(), {{5, test::untagged_rule()}, {2, test::tagged_rule()}}};
  auto read = from_json<StoredQueue>(to_json(stored));
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(*read, stored);
  auto document = from_json<MigrationDocument>(to_json(test::sample_document()));
  ASSERT_TRUE(document) << document.error().message;
  EXPECT_EQ(*document, test::sample_document());
}

TEST(ApiCodec, TheWireKeepsTheDocumentedNamesAndNulls) {
  const json q = to_json(test::sample_queue());
  EXPECT_EQ(q.at("paused_by_operator"), true);
  EXPECT_EQ(q.at("vlan_mode"), "access");
  EXPECT_EQ(q.at("filters").at(0),
            json::parse(R"({"id": 7, "queue": {"id": 3, "name": "web1"}, "mac": "52:54:00:aa:bb:cc", "vlan": 100,
                            "hits": 12345})"));
  EXPECT_TRUE(q.at("filters").at(1).at("vlan").is_null()) << "untagged is null";
  EXPECT_TRUE(q.at("filters").at(1).at("hits").is_null()) << "a counter not read is null, never 0";
  EXPECT_EQ(q.at("filters").at(1).at("hits_error"), "filter_hits failed");
  EXPECT_EQ(q.at("worker"), json::parse(R"({"tid": 4242, "cpu": 2})"));
  EXPECT_FALSE(q.contains("counters_error"));

  Queue unread = test::sample_queue();
  unread.counters.reset();
  unread.counters_error = "queue_stats failed";
  unread.last_error.reset();
  unread.worker.reset();
  const json u = to_json(unread);
  EXPECT_TRUE(u.at("counters").is_null());
  EXPECT_EQ(u.at("counters_error"), "queue_stats failed");
  EXPECT_TRUE(u.at("last_error").is_null());
  EXPECT_FALSE(u.contains("worker")) << "queue.list's queues have no worker";

  const json d = to_json(test::sample<StatsReply>()).at("uplinks").at(0).at("default_queue");
  EXPECT_EQ(d.size(), kDefaultReasonNames.size() + 1);
  EXPECT_EQ(d.at("total"), json::parse(R"({"packets": 21, "bytes": 2100})"));
  EXPECT_EQ(to_json(test::sample<CapsReply>()).at("frames"), json::parse(R"({"min": 64, "max": 4096, "default": 512})"));

  TraceReply to_default = test::sample<TraceReply>();
  to_default.destination = TraceDestination::default_queue;
  to_default.queue.reset();
  to_default.filter.reset();
  to_default.tag_removed.reset();
  to_default.reason = "no_filter";
  const json t = to_json(to_default);
  EXPECT_EQ(t.at("destination"), "default");
  EXPECT_FALSE(t.contains("queue"));
  EXPECT_FALSE(t.contains("filter"));
  EXPECT_FALSE(t.contains("tag_removed"));
  EXPECT_TRUE(t.at("frame").at("vlan2").is_null());

  EXPECT_EQ(to_json(test::sample<MigrateRestoreReply>()).at("cpu_choice"), "auto");
  EXPECT_EQ(to_json(test::sample<QueueAddParams>()).at("filters").at(1),
            json::parse(R"({"mac": "52:54:00:aa:bb:dd", "vlan": null})"));
  QueueAddParams defaults{"web1", "eth0", "vnet3", {}, {}, {}, {}, {}};
  EXPECT_EQ(to_json(defaults), json::parse(R"({"name": "web1", "uplink": "eth0", "port": "vnet3", "filters": []})"));
  EXPECT_EQ(to_json(MigrateRestoreParams{json::object(), {}, {}, RestoreCpu{}}).at("cpu"), "auto");
}

std::string refusal(const json& j) {
  auto reply = decode_result<QueueShow>(j);
  if (reply) return "accepted";
  EXPECT_EQ(reply.error().code, Errc::protocol);
  return reply.error().message;
}

TEST(ApiCodec, AMissingOrRenamedFieldIsRefusedNamingItsPath) {
  json q = to_json(test::sample_queue());
  q["counters"]["delivered"].erase("packets");
  EXPECT_EQ(refusal(q), "queue.show reply: counters.delivered.packets is missing");

  q = to_json(test::sample_queue());
  q["paused"] = q["paused_by_operator"];
  q.erase("paused_by_operator");
  EXPECT_EQ(refusal(q), "queue.show reply: paused_by_operator is missing");

  q = to_json(test::sample_queue());
  q["filters"][1]["mac_address"] = q["filters"][1]["mac"];
  q["filters"][1].erase("mac");
  EXPECT_EQ(refusal(q), "queue.show reply: filters[1].mac is missing");

  q = to_json(test::sample_queue());
  q.erase("last_error");
  EXPECT_EQ(refusal(q), "queue.show reply: last_error is missing") << "null is how a reply says none";
}

TEST(ApiCodec, AFieldOfAnotherTypeIsRefusedNamingItsPath) {
  const std::pair<json, std::string> cases[] = {
      {json::parse(R"({"counters": {"received": -1}})"), "counters.received must be an integer from 0 to 18446744073709551615"},
      {json::parse(R"({"counters": {"received": 1.5}})"), "counters.received must be an integer from 0 to 18446744073709551615"},
      {json::parse(R"({"counters": {"received": "10"}})"), "counters.received must be an integer from 0 to 18446744073709551615"},
      {json::parse(R"({"id": 4294967296})"), "id must be an integer from 0 to 4294967295"},
      {json::parse(R"({"id": true})"), "id must be an integer from 0 to 4294967295"},
      {json::parse(R"({"name": null})"), "name must be a string"},
      {json::parse(R"({"paused_by_operator": 0})"), "paused_by_operator must be true or false"},
      {json::parse(R"({"vlan_mode": "hybrid"})"), "vlan_mode: invalid VLAN mode 'hybrid' (expected access or trunk)"},
      {json::parse(R"({"filters": {}})"), "filters must be an array"},
      {json::parse(R"({"worker": []})"), "worker must be an object"},
  };
  for (const auto& [change, message] : cases) {
    SCOPED_TRACE(change.dump());
    json q = to_json(test::sample_queue());
    q.merge_patch(change);
    if (change.contains("name") && change["name"].is_null()) q["name"] = nullptr;  // merge_patch removes nulls
    EXPECT_EQ(refusal(q), "queue.show reply: " + message);
  }
  EXPECT_EQ(refusal(json::array()), "queue.show reply: the document must be an object");
}

TEST(ApiCodec, FieldsANewerAgentAddsAreTolerated) {
  json q = to_json(test::sample_queue());
  q["numa_node"] = 1;
  q["counters"]["xsk"]["rx_busy"] = 3;
  q["filters"][0]["priority"] = "high";
  auto read = decode_result<QueueShow>(q);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(*read, test::sample_queue());

  json stats = to_json(test::sample<StatsReply>());
  stats["uplinks"][0]["default_queue"]["vlan_mismatch"] = {{"packets", 5}, {"bytes", 500}};
  auto with_reason = decode_result<Stats>(stats);
  ASSERT_TRUE(with_reason) << with_reason.error().message;
  const auto& reasons = with_reason->uplinks.at(0).default_queue.by_reason;
  ASSERT_EQ(reasons.size(), kDefaultReasonNames.size() + 1);
  EXPECT_EQ(reasons.back().reason, "vlan_mismatch") << "after the known ones, in their order";
  EXPECT_EQ(reasons.back().traffic.packets, 5u);
  EXPECT_EQ(reasons.front().reason, "no_filter");

  stats["uplinks"][0]["default_queue"].erase("oversize");
  EXPECT_EQ(decode_result<Stats>(stats).error().message,
            "stats reply: uplinks[0].default_queue: oversize is missing");
}

TEST(ApiCodec, ParametersAreReadAsVmqdAlwaysHas) {
  auto message = [](const json& params) {
    auto read = params_from_json<QueueAddParams>(params);
    return read ? std::string("accepted") : read.error().message;
  };
  const json base = json::parse(R"({"name": "web3", "uplink": "eth0", "port": "vnet3"})");
  auto with = [&](const char* key, json value) {
    json p = base;
    p[key] = std::move(value);
    return p;
  };
  EXPECT_EQ(message(base), "accepted");
  EXPECT_EQ(message(with("name", nullptr)), "parameter 'name' is required");
  EXPECT_EQ(message(with("cpu", 4096)), "parameter 'cpu' must be an integer from 0 to 4095");
  EXPECT_EQ(message(with("bogus", 1)), "unknown parameter 'bogus'");
  EXPECT_EQ(message(with("filters", json::object())), "parameter 'filters' must be an array");
  EXPECT_EQ(message(with("filters", json::array({1}))), "queue web3: filters[0] must be an object");
  EXPECT_EQ(message(with("filters", json::parse(R"([{"mac": "52:54:00:aa:bb:cc", "vlan": 0}])"))),
            "queue web3: VLAN 0 out of range 1..4094 (use --untagged for untagged and priority-tagged frames)");
  EXPECT_EQ(message(with("filters", json::parse(R"([{"mac": "ff:ff:ff:ff:ff:ff"}])"))),
            "queue web3: MAC ff:ff:ff:ff:ff:ff is a broadcast/multicast address: VMQ filters match unicast "
            "addresses only");
  EXPECT_EQ(message(with("cpu", nullptr)), "accepted") << "null is an absent parameter";

  auto restore = params_from_json<MigrateRestoreParams>(json::parse(R"({"document": {}, "cpu": "any"})"));
  ASSERT_FALSE(restore);
  EXPECT_EQ(restore.error().message, "parameter 'cpu' must be a CPU number or \"auto\"");
}

}  // namespace
}  // namespace vmq::api
