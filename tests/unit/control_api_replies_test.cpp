// vmqd's replies as its clients read them: every method of api::Methods is
// served by ControlApi (over the fake dataplane) and its result, through the
// wire's encoding, decodes with the client's typed decoder. This is the test
// that fails when the server writes what the client does not read.
#include <gtest/gtest.h>


#include <set>
#include <string>
#include <tuple>

#include "unit/handle_now.h"
#include "api/client.h"
#include "api/methods.h"
#include "api/protocol.h"
#include "base/default_reasons.h"
#include "core/frame_builder.h"
#include "service/control_api.h"
#include "unit/fake_dataplane.h"

namespace vmq::service {
namespace {

using api::json;

class ServedReplies : public ::testing::Test {
 protected:
  ServedReplies()
      : manager(QueueLimits{}, Placement({}, {0, 1}), dp),
        control(manager, dp, dp, AgentInfo{"9.8.7", "host-a", std::chrono::steady_clock::now()},
                [] { return Result<void>{}; }) {}

  // The client's path: parameters encoded, the request and the reply each
  // through their line on the wire, the result decoded as Method::Reply.
  template <typename Method>
  typename Method::Reply served(const typename Method::Params& params) {
    served_methods.insert(std::string(Method::name));
    const std::string request_line = api::encode(api::Request{7, std::string(Method::name), api::to_json(params)});
    auto request = api::decode_request(request_line.substr(0, request_line.size() - 1));
    EXPECT_TRUE(request) << request.error().message;
    const std::string reply_line = api::encode(test::handle_now(control, *request));
    auto reply = api::decode_reply(reply_line);
    EXPECT_TRUE(reply) << reply.error().message;
    EXPECT_FALSE(reply->error) << Method::name << " refused: " << reply->error->message;
    auto decoded = api::decode_result<Method>(reply->result);
    EXPECT_TRUE(decoded) << decoded.error().message << "\n" << reply->result.dump(2);
    if (!decoded) return {};
    EXPECT_EQ(api::to_json(*decoded), reply->result) << Method::name << ": the typed reply holds every field";
    return *decoded;
  }

  static api::QueueAddParams web1() {
    return {"web1", "uplink0", "port1", "vm-web1", 0, 100, VlanMode::access,
            {{*MacAddress::parse("52:54:00:aa:bb:cc"), api::FilterVlan{100}}}};
  }

  test::FakeDataplane dp;
  QueueManager manager;
  ControlApi control;
  std::set<std::string> served_methods;
};

TEST_F(ServedReplies, EveryMethodsReplyDecodesWithTheClientsDecoder) {
  dp.workers = {WorkerSample{0, 4242, 1, std::chrono::milliseconds(5), 100}};
  manager.sample_worker_load(dp.worker_samples(), std::chrono::steady_clock::now());
  EXPECT_EQ(served<api::Status>({}).host_id, "host-a");
  EXPECT_EQ(served<api::Caps>({}).frames.fallback, 512u);
  const api::Queue added = served<api::QueueAdd>(web1());
  EXPECT_EQ(added.settings.name, "web1");
  EXPECT_EQ(added.settings.frames, 128u);
  ASSERT_EQ(added.filters.size(), 1u);
  EXPECT_EQ(added.filters[0].rule.vlan, api::FilterVlan{100});
  EXPECT_TRUE(added.worker);
  EXPECT_EQ(served<api::QueueList>({}).queues.size(), 1u);
  EXPECT_EQ(served<api::QueueShow>({"web1"}).id, added.id);
  EXPECT_EQ(served<api::QueueSet>({"web1", 1, std::nullopt, "guest", std::nullopt}).settings.vm, "guest");
  EXPECT_TRUE(served<api::QueuePause>({"web1"}).settings.paused_by_operator);
  EXPECT_EQ(served<api::QueueResume>({"web1"}).state, "running");
  const api::Filter filter =
      served<api::FilterAdd>({"web1", {*MacAddress::parse("52:54:00:aa:bb:dd"), std::nullopt}});
  EXPECT_FALSE(filter.rule.vlan);
  EXPECT_EQ(filter.hits, 0u);
  EXPECT_EQ(served<api::FilterList>({"web1"}).filters.size(), 2u);
  EXPECT_EQ(served<api::FilterDel>({filter.id}).id, filter.id);
  const api::StatsReply stats = served<api::Stats>({});
  ASSERT_EQ(stats.uplinks.size(), 1u);
  EXPECT_EQ(stats.uplinks[0].default_queue.by_reason.size(), kDefaultReasonNames.size());
  EXPECT_EQ(stats.workers.size(), 1u);
  const api::TraceReply trace = served<api::Trace>({"uplink0", *MacAddress::parse("52:54:00:aa:bb:cc"), std::nullopt,
                                                    100, std::nullopt, std::nullopt});
  EXPECT_EQ(trace.destination, api::TraceDestination::default_queue);
  EXPECT_EQ(trace.reason, "no_filter");
  const api::MigrateDrainReply drained = served<api::MigrateDrain>({"web1"});
  EXPECT_EQ(drained.document.queue.settings.name, "web1");
  EXPECT_FALSE(drained.document.checksum.empty());
  const api::MigrateRestoreReply restored =
      served<api::MigrateRestore>({api::to_json(drained.document), std::nullopt, std::nullopt, std::nullopt});
  EXPECT_FALSE(restored.already_restored);
  EXPECT_EQ(restored.cpu_choice, api::CpuChoice::document);
  EXPECT_EQ(restored.source_host, "host-a");
  const api::MigrateRestoreReply again =
      served<api::MigrateRestore>({api::to_json(drained.document), std::nullopt, std::nullopt, api::RestoreCpu{}});
  EXPECT_TRUE(again.already_restored);
  EXPECT_EQ(served<api::QueueDel>({"web1"}).name, "web1");

  std::set<std::string> every_method;
  std::apply([&](auto... method) { (every_method.insert(std::string(decltype(method)::name)), ...); }, api::Methods{});
  EXPECT_EQ(served_methods, every_method) << "a method whose reply no test decodes";
}

TEST_F(ServedReplies, CountersThatCouldNotBeReadDecodeAsNoneWithTheReason) {
  served<api::QueueAdd>(web1());
  dp.failing_reads = {"queue_stats", "filter_hits"};
  const api::Queue q = served<api::QueueShow>({"web1"});
  EXPECT_FALSE(q.counters);
  EXPECT_EQ(q.counters_error, "queue_stats failed (injected)");
  ASSERT_EQ(q.filters.size(), 1u);
  EXPECT_FALSE(q.filters[0].hits);
  EXPECT_EQ(q.filters[0].hits_error, "filter_hits failed (injected)");
  EXPECT_FALSE(served<api::QueueList>({}).queues.at(0).counters);
  EXPECT_EQ(served<api::Stats>({}).queues.at(0).counters_error, "queue_stats failed (injected)");
}

TEST_F(ServedReplies, ATraceToAQueueDecodes) {
  class Redirecting : public test::FakeDataplane {
   public:
    Result<TraceVerdict> trace(std::string_view, std::span<const std::uint8_t> frame, std::uint32_t) override {
      return TraceVerdict{TraceVerdict::Destination::queue, std::nullopt, 1, 1, std::vector<std::uint8_t>(frame.size() - 4)};
    }
  };
  Redirecting redirecting;
  QueueManager m(QueueLimits{}, Placement({}, {0}), redirecting);
  ControlApi api(m, redirecting, redirecting, AgentInfo{"1", "h", std::chrono::steady_clock::now()}, [] { return Result<void>{}; });
  api::QueueAddParams add = web1();
  add.cpu = std::nullopt;
  ASSERT_FALSE(test::handle_now(api, api::Request{1, "queue.add", api::to_json(add)}).error);
  const api::TraceParams params{"uplink0", *MacAddress::parse("52:54:00:aa:bb:cc"), std::nullopt, 100, std::nullopt,
                                std::nullopt};
  const api::Reply reply = test::handle_now(api, api::Request{2, "trace", api::to_json(params)});
  ASSERT_FALSE(reply.error) << reply.error->message;
  auto trace = api::decode_result<api::Trace>(json::parse(reply.result.dump()));
  ASSERT_TRUE(trace) << trace.error().message;
  EXPECT_EQ(trace->destination, api::TraceDestination::queue);
  EXPECT_EQ(trace->queue, (api::QueueRef{1, "web1"}));
  EXPECT_EQ(trace->filter, api::FilterRef{1});
  EXPECT_EQ(trace->tag_removed, true);
  EXPECT_FALSE(trace->reason);
}

}  // namespace
}  // namespace vmq::service
