// The control API over a fake dataplane: every method's result, every
// refusal's code and message, atomic queue.set, and when the state is saved.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/frame_builder.h"
#include "service/control_api.h"
#include "api/methods.h"
#include "unit/fake_dataplane.h"
#include "unit/handle_now.h"

namespace vmq::service {
namespace {

using json = nlohmann::json;

constexpr const char* kMacA = "52:54:00:aa:bb:cc";
constexpr const char* kMacB = "52:54:00:aa:bb:dd";

// The fake, plus a scripted trace verdict and a way to make a handler throw.
class ScriptedDataplane : public test::FakeDataplane {
 public:
  std::optional<TraceVerdict> verdict;  // none: the fake's PASS verdict
  std::vector<std::uint8_t> traced_frame;
  std::uint32_t traced_rxq = ~0u;
  std::string traced_uplink;
  bool throw_in_uplinks = false;

  std::vector<UplinkInfo> uplinks() const override {
    if (throw_in_uplinks) throw std::runtime_error("boom");
    return FakeDataplane::uplinks();
  }
  std::vector<std::string> uplink_names() const override {
    if (throw_in_uplinks) throw std::runtime_error("boom");
    return FakeDataplane::uplink_names();
  }
  Result<TraceVerdict> trace(std::string_view uplink, std::span<const std::uint8_t> frame,
                             std::uint32_t rxq) override {
    traced_uplink = uplink;
    traced_frame.assign(frame.begin(), frame.end());
    traced_rxq = rxq;
    if (verdict) return *verdict;
    return FakeDataplane::trace(uplink, frame, rxq);
  }
};

class ControlApiTest : public ::testing::Test {
 protected:
  ControlApiTest()
      : manager(limits(), Placement({}, {0, 1}), dp),
        control(manager, dp, dp, AgentInfo{"9.8.7", "host-a", std::chrono::steady_clock::now() - std::chrono::seconds(5)},
                [this]() -> Result<void> {
                  ++saves;
                  if (on_save) on_save();
                  if (save_error) return fail(Errc::system, *save_error);
                  return {};
                },
                OperationTiming{.port_retry_limit = std::chrono::milliseconds(50)}) {}

  static QueueLimits limits() {
    QueueLimits l;
    l.max_queues = 4;
    l.max_filters = 8;
    l.drain_timeout = std::chrono::milliseconds(50);
    return l;
  }

  // Sends the request the way the server does: encoded, then decoded (so
  // that, as on the wire, non-negative numbers are unsigned JSON integers).
  api::Reply call(const std::string& method, json params = json::object()) {
    const std::uint64_t id = next_id++;
    auto request = api::decode_request(api::encode(api::Request{id, method, std::move(params)}));
    if (!request) {
      ADD_FAILURE() << method << ": the test's request does not decode: " << request.error().message;
      return api::Reply{id, {}, request.error()};
    }
    api::Reply reply;
    try {
      reply = test::handle_now(control, *request);
    } catch (const std::exception& e) {
      ADD_FAILURE() << method << " threw: " << e.what();
      return api::Reply{id, {}, Error{Errc::system, "threw"}};
    }
    EXPECT_EQ(reply.id, id) << "the reply carries the request's id";
    return reply;
  }
  json ok(const std::string& method, json params = json::object()) {
    auto reply = call(method, std::move(params));
    if (reply.error) {
      ADD_FAILURE() << method << " refused: " << reply.error->message;
      return json();
    }
    return reply.result;
  }
  Error refused(const std::string& method, json params = json::object()) {
    auto reply = call(method, std::move(params));
    if (!reply.error) {
      ADD_FAILURE() << method << " accepted: " << reply.result.dump();
      return Error{Errc::system, "(accepted)"};
    }
    return *reply.error;
  }

  static json web1_params() {
    return {{"name", "web1"},
            {"vm", "vm-web1"},
            {"uplink", "uplink0"},
            {"port", "port1"},
            {"cpu", 0},
            {"filters", json::array({{{"mac", kMacA}, {"vlan", 100}}})}};
  }
  // web1 (id 1, filter 1: kMacA VLAN 100, running) and web2 (id 2, no filter).
  void add_two_queues() {
    ok("queue.add", web1_params());
    ok("queue.add", {{"name", "web2"}, {"uplink", "uplink0"}, {"port", "port2"}, {"cpu", 1}});
    saves = 0;
  }

  ScriptedDataplane dp;
  QueueManager manager;
  int saves = 0;
  std::optional<std::string> save_error;
  std::function<void()> on_save;
  ControlApi control;
  std::uint64_t next_id = 100;
};

// ---- happy paths -----------------------------------------------------------

TEST_F(ControlApiTest, StatusDescribesTheAgent) {
  add_two_queues();
  const json s = ok("status");
  EXPECT_EQ(s.at("version"), "9.8.7");
  EXPECT_EQ(s.at("protocol"), 1);
  EXPECT_EQ(s.at("pid"), getpid());
  EXPECT_EQ(s.at("host_id"), "host-a");
  EXPECT_GE(s.at("uptime_seconds").get<long>(), 5);
  EXPECT_LT(s.at("uptime_seconds").get<long>(), 60);
  EXPECT_EQ(s.at("queues"), 2);
  EXPECT_EQ(s.at("filters"), 1);
  EXPECT_EQ(s.at("max_queues"), 4);
  EXPECT_EQ(s.at("max_filters"), 8);
  ASSERT_EQ(s.at("uplinks").size(), 1u);
  const json& u = s.at("uplinks").at(0);
  EXPECT_EQ(u.at("name"), "uplink0");
  EXPECT_EQ(u.at("rx_queues"), 1);
  EXPECT_EQ(u.at("attach_mode"), "native");
  EXPECT_EQ(u.at("attach_method"), "bpf-link");
  EXPECT_EQ(u.at("program_id"), 42);
  EXPECT_EQ(u.at("degraded"), false);
  EXPECT_TRUE(u.at("degraded_reason").is_null());
  EXPECT_EQ(u.at("max_frame_len"), 3840);
  EXPECT_EQ(u.at("mtu"), 1500);
  EXPECT_EQ(u.at("classifier_build"), "single-buffer");
}

TEST_F(ControlApiTest, StatusShowsADegradedUplinkWithItsReason) {
  dp.uplink_list[0].degraded = true;
  dp.uplink_list[0].degraded_reason = "another program replaced vmq's";
  const json u = ok("status").at("uplinks").at(0);
  EXPECT_EQ(u.at("degraded"), true);
  EXPECT_EQ(u.at("degraded_reason"), "another program replaced vmq's");
}

TEST_F(ControlApiTest, CapsDescribesLimitsAndUplinks) {
  const json c = ok("caps");
  EXPECT_EQ(c.at("max_queues"), 4);
  EXPECT_EQ(c.at("max_filters"), 8);
  EXPECT_EQ(c.at("filter_fields"), json({"destination_mac", "vlan_id"}));
  EXPECT_EQ(c.at("filter_tests"), json({"equal"}));
  EXPECT_EQ(c.at("vlan_modes"), json({"access", "trunk"}));
  EXPECT_EQ(c.at("frames"), json({{"min", 64}, {"max", 4096}, {"default", 512}}));
  EXPECT_EQ(c.at("cpus"), json({0, 1}));
  ASSERT_EQ(c.at("uplinks").size(), 1u);
  EXPECT_EQ(c.at("uplinks").at(0).at("name"), "uplink0");
}

TEST_F(ControlApiTest, CapsOfOneUplink) {
  dp.uplink_list.push_back(UplinkInfo{"uplink1", 4, "generic", "netlink", 43, false, {}, 1500, 9000, true});
  EXPECT_EQ(ok("caps").at("uplinks").size(), 2u);
  const json one = ok("caps", {{"uplink", "uplink1"}});
  ASSERT_EQ(one.at("uplinks").size(), 1u);
  EXPECT_EQ(one.at("uplinks").at(0).at("rx_queues"), 4);
  EXPECT_EQ(one.at("uplinks").at(0).at("classifier_build"), "multi-buffer");
  const Error e = refused("caps", {{"uplink", "eth9"}});
  EXPECT_EQ(e.code, Errc::not_found);
  EXPECT_EQ(e.message, "uplink eth9 is not managed by vmqd");
}

TEST_F(ControlApiTest, QueueAddWithFiltersCreatesARunningQueue) {
  const json q = ok("queue.add", {{"name", "web1"},
                                  {"vm", "vm-web1"},
                                  {"uplink", "uplink0"},
                                  {"port", "port1"},
                                  {"cpu", 1},
                                  {"frames", 100},
                                  {"vlan_mode", "access"},
                                  {"filters", json::array({{{"mac", kMacA}, {"vlan", 100}},
                                                           {{"mac", kMacB}},
                                                           {{"mac", kMacA}, {"vlan", nullptr}}})}});
  EXPECT_EQ(q.at("id"), 1);
  EXPECT_EQ(q.at("name"), "web1");
  EXPECT_EQ(q.at("vm"), "vm-web1");
  EXPECT_EQ(q.at("uplink"), "uplink0");
  EXPECT_EQ(q.at("port"), "port1");
  EXPECT_EQ(q.at("cpu"), 1);
  EXPECT_EQ(q.at("frames"), 128) << "a hint of 100 frames gives the next power of two";
  EXPECT_EQ(q.at("vlan_mode"), "access");
  EXPECT_EQ(q.at("state"), "running");
  EXPECT_EQ(q.at("ndis_state"), "running");
  EXPECT_EQ(q.at("paused_by_operator"), false);
  EXPECT_TRUE(q.at("last_error").is_null());
  ASSERT_EQ(q.at("filters").size(), 3u);
  const json& f0 = q.at("filters").at(0);
  EXPECT_EQ(f0.at("id"), 1);
  EXPECT_EQ(f0.at("queue"), json({{"id", 1}, {"name", "web1"}}));
  EXPECT_EQ(f0.at("mac"), kMacA);
  EXPECT_EQ(f0.at("vlan"), 100);
  EXPECT_EQ(f0.at("hits"), 0);
  EXPECT_EQ(q.at("filters").at(1).at("id"), 2);
  EXPECT_EQ(q.at("filters").at(1).at("mac"), kMacB);
  EXPECT_TRUE(q.at("filters").at(1).at("vlan").is_null());
  EXPECT_TRUE(q.at("filters").at(2).at("vlan").is_null());
  EXPECT_EQ(q.at("counters").at("classified").at("packets"), 0);
  EXPECT_EQ(q.at("counters").at("dropped"), json({{"port_full", 0}, {"quota", 0}, {"port_refused", 0}}));
  EXPECT_TRUE(q.at("counters").at("xsk").contains("rx_ring_full"));
  EXPECT_EQ(q.at("worker"), json({{"tid", 0}, {"cpu", 1}}));

  // What the dataplane was asked to do.
  ASSERT_TRUE(dp.started.contains(1));
  EXPECT_EQ(dp.started.at(1).cpu, 1u);
  EXPECT_EQ(dp.started.at(1).frames, 128u);
  EXPECT_EQ(dp.started.at(1).port, "port1");
  EXPECT_EQ(dp.started.at(1).vlan_mode, VlanMode::access);
  EXPECT_EQ(dp.published.at(1), QueueState::running);
  EXPECT_EQ(dp.filters.size(), 3u);
  EXPECT_EQ(saves, 1);
}

TEST_F(ControlApiTest, QueueAddDefaultsAndNoFilters) {
  ok("queue.add", web1_params());  // on CPU 0
  const json q = ok("queue.add", {{"name", "web2"}, {"uplink", "uplink0"}, {"port", "port2"}});
  EXPECT_EQ(q.at("id"), 2);
  EXPECT_EQ(q.at("vm"), "");
  EXPECT_EQ(q.at("cpu"), 1) << "the least loaded CPU";
  EXPECT_EQ(q.at("frames"), 512);
  EXPECT_EQ(q.at("vlan_mode"), "trunk");
  EXPECT_EQ(q.at("filters"), json::array());
  EXPECT_EQ(q.at("state"), "paused") << "a queue without filters is paused until it gets one";
  EXPECT_EQ(dp.published.at(2), QueueState::paused);

  ok("filter.add", {{"queue", "web2"}, {"mac", kMacB}});
  EXPECT_EQ(ok("queue.show", {{"queue", "web2"}}).at("state"), "running");
  EXPECT_EQ(dp.published.at(2), QueueState::running);
}

TEST_F(ControlApiTest, QueueListGivesEveryQueueByIdWithoutDetail) {
  add_two_queues();
  const json list = ok("queue.list");
  ASSERT_EQ(list.at("queues").size(), 2u);
  EXPECT_EQ(list.at("queues").at(0).at("id"), 1);
  EXPECT_EQ(list.at("queues").at(0).at("name"), "web1");
  EXPECT_EQ(list.at("queues").at(0).at("filters").size(), 1u);
  EXPECT_EQ(list.at("queues").at(1).at("name"), "web2");
  EXPECT_FALSE(list.at("queues").at(0).contains("worker"));
  EXPECT_TRUE(list.at("queues").at(0).contains("counters"));
}

TEST_F(ControlApiTest, EmptyQueueList) { EXPECT_EQ(ok("queue.list"), json({{"queues", json::array()}})); }

TEST_F(ControlApiTest, QueueShowByNameOrId) {
  add_two_queues();
  const json by_name = ok("queue.show", {{"queue", "web2"}});
  EXPECT_EQ(by_name.at("id"), 2);
  EXPECT_EQ(by_name.at("worker"), json({{"tid", 0}, {"cpu", 1}}));
  const json by_id = ok("queue.show", {{"queue", "2"}});
  EXPECT_EQ(by_id.at("name"), "web2");
  EXPECT_EQ(by_id, by_name);
}

TEST_F(ControlApiTest, CountersThatCannotBeReadAreNullWithTheReasonNeverZero) {
  add_two_queues();
  dp.failing_reads = {"queue_stats", "filter_hits"};
  const json q = ok("queue.show", {{"queue", "web1"}});
  EXPECT_TRUE(q.at("counters").is_null());
  EXPECT_EQ(q.at("counters_error"), "queue_stats failed (injected)");
  EXPECT_TRUE(q.at("filters").at(0).at("hits").is_null());
  EXPECT_EQ(q.at("filters").at(0).at("hits_error"), "filter_hits failed (injected)");
  const json list = ok("queue.list");
  EXPECT_TRUE(list.at("queues").at(1).at("counters").is_null());
  dp.failing_reads.clear();
  EXPECT_EQ(ok("queue.show", {{"queue", "web1"}}).at("counters").at("received"), 0);
}

TEST_F(ControlApiTest, QueueSetChangesCpuNameAndVm) {
  add_two_queues();
  json q = ok("queue.set", {{"queue", "web1"}, {"cpu", 1}});
  EXPECT_EQ(q.at("cpu"), 1);
  EXPECT_EQ(dp.started.at(1).cpu, 1u) << "the worker moved";
  EXPECT_EQ(std::ranges::count(dp.calls, "move_queue"), 1);

  q = ok("queue.set", {{"queue", "web1"}, {"name", "frontend"}});
  EXPECT_EQ(q.at("name"), "frontend");
  EXPECT_EQ(ok("queue.show", {{"queue", "frontend"}}).at("id"), 1);
  EXPECT_EQ(refused("queue.show", {{"queue", "web1"}}).message, "no queue named 'web1'");

  q = ok("queue.set", {{"queue", "1"}, {"vm", "guest 7"}});
  EXPECT_EQ(q.at("vm"), "guest 7");

  q = ok("queue.set", {{"queue", "frontend"}, {"cpu", 0}, {"name", "web1"}, {"vm", ""}});
  EXPECT_EQ(q.at("cpu"), 0);
  EXPECT_EQ(q.at("name"), "web1");
  EXPECT_EQ(q.at("vm"), "");
  EXPECT_EQ(dp.started.at(1).cpu, 0u);
  // Filters follow the queue, whatever its name.
  EXPECT_EQ(q.at("filters").at(0).at("queue").at("name"), "web1");
  EXPECT_EQ(saves, 4);
}

TEST_F(ControlApiTest, QueueSetToTheSameValuesSucceeds) {
  add_two_queues();
  const json q = ok("queue.set", {{"queue", "web1"}, {"cpu", 0}, {"name", "web1"}});
  EXPECT_EQ(q.at("name"), "web1");
  EXPECT_EQ(std::ranges::count(dp.calls, "move_queue"), 0) << "no move to the CPU it is on";
}

TEST_F(ControlApiTest, AQueueGivenACpuIsPinnedAndOneWithoutIsAuto) {
  add_two_queues();
  EXPECT_EQ(ok("queue.show", {{"queue", "web1"}}).at("cpu_mode"), "pinned");
  const json web3 = ok("queue.add", {{"name", "web3"}, {"uplink", "uplink0"}, {"port", "port3"}});
  EXPECT_EQ(web3.at("cpu_mode"), "auto");
  EXPECT_FALSE(web3.contains("last_move")) << "never moved";
}

TEST_F(ControlApiTest, QueueSetCpuPinsAndRemembersTheMoveAutoCpuUnpinsWithoutMoving) {
  add_two_queues();
  ASSERT_TRUE(ok("queue.set", {{"queue", "web1"}, {"auto_cpu", true}}).is_object());
  json q = ok("queue.show", {{"queue", "web1"}});
  EXPECT_EQ(q.at("cpu_mode"), "auto");
  EXPECT_EQ(q.at("cpu"), 0);
  EXPECT_EQ(std::ranges::count(dp.calls, "move_queue"), 0);
  EXPECT_GT(saves, 0) << "the mode is saved";

  q = ok("queue.set", {{"queue", "web1"}, {"cpu", 1}});
  EXPECT_EQ(q.at("cpu"), 1);
  EXPECT_EQ(q.at("cpu_mode"), "pinned");
  const json& move = q.at("last_move");
  EXPECT_EQ(move.at("from"), 0);
  EXPECT_EQ(move.at("to"), 1);
  EXPECT_EQ(move.at("by"), "operator");
  EXPECT_GT(move.at("at_ms").get<std::uint64_t>(), 1'700'000'000'000u);

  Error e = refused("queue.set", {{"queue", "web1"}, {"cpu", 0}, {"auto_cpu", true}});
  EXPECT_EQ(e.code, Errc::invalid_argument);
  EXPECT_EQ(e.message, "give either a cpu (pins the queue) or auto_cpu, not both");
  e = refused("queue.set", {{"queue", "web1"}, {"auto_cpu", false}});
  EXPECT_EQ(e.code, Errc::invalid_argument);
  e = refused("queue.set", {{"queue", "web1"}, {"cpu", 7}});
  EXPECT_EQ(ok("queue.show", {{"queue", "web1"}}).at("cpu"), 1) << "a CPU outside the allowed set changes nothing";
}

TEST_F(ControlApiTest, StatusListsEveryAllowedCpuAndTheRebalancerOff) {
  add_two_queues();
  const json s = ok("status");
  ASSERT_EQ(s.at("cpus").size(), 2u);
  EXPECT_EQ(s.at("cpus").at(0).at("cpu"), 0);
  EXPECT_EQ(s.at("cpus").at(0).at("queues"), 1);
  EXPECT_TRUE(s.at("cpus").at(0).at("busy_share").is_null()) << "no round has measured it";
  EXPECT_EQ(s.at("rebalancer").at("enabled"), false);
}

TEST_F(ControlApiTest, QueueSetNeedsSomethingToChange) {
  add_two_queues();
  const Error e = refused("queue.set", {{"queue", "web1"}});
  EXPECT_EQ(e.code, Errc::invalid_argument);
  EXPECT_EQ(e.message, "nothing to change: give cpu, auto_cpu, name or vm");
  EXPECT_EQ(saves, 0);
}

TEST_F(ControlApiTest, PauseAndResume) {
  add_two_queues();
  json q = ok("queue.pause", {{"queue", "web1"}});
  EXPECT_EQ(q.at("state"), "paused");
  EXPECT_EQ(q.at("ndis_state"), "running");
  EXPECT_EQ(q.at("paused_by_operator"), true);
  EXPECT_EQ(q.at("filters").size(), 1u) << "pausing keeps the filters";
  EXPECT_EQ(dp.published.at(1), QueueState::paused);
  EXPECT_EQ(dp.filters.size(), 1u);

  q = ok("queue.pause", {{"queue", "web1"}});  // already paused: nothing to do
  EXPECT_EQ(q.at("state"), "paused");

  q = ok("queue.resume", {{"queue", "1"}});
  EXPECT_EQ(q.at("state"), "running");
  EXPECT_EQ(q.at("paused_by_operator"), false);
  EXPECT_EQ(dp.published.at(1), QueueState::running);
  EXPECT_EQ(saves, 2) << "the second pause changed nothing, so nothing was saved";
}

TEST_F(ControlApiTest, PauseAndResumeOfAQueueWithoutFilters) {
  add_two_queues();
  Error e = refused("queue.pause", {{"queue", "web2"}});
  EXPECT_EQ(e.code, Errc::invalid_state);
  EXPECT_EQ(e.message, "queue web2: only a running queue can be paused (state paused)");
  e = refused("queue.resume", {{"queue", "web2"}});
  EXPECT_EQ(e.code, Errc::invalid_state);
  EXPECT_EQ(e.message, "queue web2: has no filters: add one to make it run");
  EXPECT_EQ(saves, 0);
}

TEST_F(ControlApiTest, QueueDelDrainsAndForgetsTheQueue) {
  add_two_queues();
  dp.frames_in_ring = 7;
  json d = ok("queue.del", {{"queue", "web1"}});
  EXPECT_GE(d.at("drain_us").get<std::int64_t>(), 0) << d;
  d.erase("drain_us");
  EXPECT_EQ(d, json({{"id", 1}, {"name", "web1"}, {"drained_frames", 7}}));
  EXPECT_FALSE(dp.started.contains(1));
  EXPECT_TRUE(dp.filters.empty()) << "its filters were removed first";
  const Error e = refused("queue.show", {{"queue", "web1"}});
  EXPECT_EQ(e.code, Errc::not_found);
  EXPECT_EQ(ok("queue.list").at("queues").size(), 1u);
  EXPECT_EQ(ok("status").at("filters"), 0);
  EXPECT_EQ(saves, 1);

  // The name, the port and the MAC can be used again.
  ok("queue.add", web1_params());
}

TEST_F(ControlApiTest, QueueAddRetriesAPortTheKernelStillReleases) {
  dp.port_busy_starts = 3;
  const json added = ok("queue.add", web1_params());
  EXPECT_EQ(added.at("state"), "running");
  EXPECT_EQ(std::ranges::count(dp.calls, "start_queue"), 4);
}

TEST_F(ControlApiTest, APortThatStaysHeldFailsTheAddAndLeavesNothingBehind) {
  dp.port_busy_starts = -1;
  const Error e = refused("queue.add", web1_params());
  EXPECT_EQ(e.code, Errc::system);
  EXPECT_EQ(e.message, "queue web1: creating the AF_XDP transmit socket on port port1: Device or resource busy");
  EXPECT_TRUE(manager.queues().empty());
  EXPECT_TRUE(dp.filters.empty());
  EXPECT_EQ(saves, 1) << "the allocation and its undoing changed the manager";
}

TEST_F(ControlApiTest, QueueDelWaitsForTheRingsToEmpty) {
  add_two_queues();
  dp.frames_in_ring = 4;
  dp.probes_before_empty = 5;
  const json d = ok("queue.del", {{"queue", "web1"}});
  EXPECT_EQ(d.at("drained_frames"), 4);
  EXPECT_EQ(dp.probes_before_empty, 0) << "answered before the rings were empty";
  EXPECT_GE(std::ranges::count(dp.calls, "drain_probe"), 6) << "busy 5 times, then empty";
}

TEST_F(ControlApiTest, ADrainThatNeverEndsTimesOutAndTheQueueIsFreedAnyway) {
  add_two_queues();
  dp.probes_before_empty = -1;
  const Error e = refused("queue.del", {{"queue", "web1"}});
  EXPECT_EQ(e.code, Errc::timeout);
  EXPECT_EQ(e.message, "queue 1: its port did not take the queue's frames within 50 ms");
  EXPECT_EQ(manager.queue(1), nullptr);
  EXPECT_FALSE(dp.started.contains(1));
  EXPECT_EQ(saves, 1);
}

TEST_F(ControlApiTest, MigrateDrainDeliversWhatTheQueueHoldsBeforeDescribingIt) {
  add_two_queues();
  dp.frames_in_ring = 9;
  dp.probes_before_empty = 2;
  const json d = ok("migrate.drain", {{"queue", "web1"}});
  EXPECT_EQ(d.at("drained_frames"), 9);
  EXPECT_EQ(d.at("dma_stopped_indications"), 1);
  EXPECT_EQ(manager.queue(1), nullptr);
  EXPECT_EQ(control.migrations().drains.count(), 1u);
}

TEST_F(ControlApiTest, FilterAddListDel) {
  add_two_queues();
  json f = ok("filter.add", {{"queue", "web1"}, {"mac", kMacB}, {"vlan", 200}});
  EXPECT_EQ(f, json({{"id", 2}, {"queue", {{"id", 1}, {"name", "web1"}}}, {"mac", kMacB}, {"vlan", 200}, {"hits", 0}}));
  f = ok("filter.add", {{"queue", "web2"}, {"mac", kMacB}});
  EXPECT_EQ(f.at("id"), 3);
  EXPECT_TRUE(f.at("vlan").is_null());
  f = ok("filter.add", {{"queue", "2"}, {"mac", kMacA}, {"vlan", nullptr}});
  EXPECT_EQ(f.at("id"), 4);
  EXPECT_EQ(f.at("queue").at("name"), "web2");
  EXPECT_EQ(dp.filters.size(), 4u);

  json all = ok("filter.list").at("filters");
  ASSERT_EQ(all.size(), 4u);
  std::vector<int> ids;
  for (const auto& x : all) ids.push_back(x.at("id").get<int>());
  EXPECT_EQ(ids, (std::vector<int>{1, 2, 3, 4})) << "by queue, then in the order set";
  EXPECT_EQ(ok("filter.list", {{"queue", "web1"}}).at("filters").size(), 2u);
  EXPECT_EQ(ok("filter.list", {{"queue", "web2"}}).at("filters").at(0).at("id"), 3);

  const json removed = ok("filter.del", {{"filter", 2}});
  EXPECT_EQ(removed.at("id"), 2);
  EXPECT_EQ(removed.at("mac"), kMacB);
  EXPECT_EQ(removed.at("vlan"), 200);
  EXPECT_EQ(removed.at("queue").at("name"), "web1");
  EXPECT_EQ(ok("filter.list").at("filters").size(), 3u);
  EXPECT_EQ(dp.filters.size(), 3u);
  EXPECT_EQ(saves, 4);

  // Removing a queue's last filter pauses it.
  ok("filter.del", {{"filter", 1}});
  const json q = ok("queue.show", {{"queue", "web1"}});
  EXPECT_EQ(q.at("state"), "paused");
  EXPECT_EQ(q.at("filters"), json::array());
  EXPECT_EQ(dp.published.at(1), QueueState::paused);
}

TEST_F(ControlApiTest, StatsOfEveryQueueAndUplink) {
  add_two_queues();
  const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const json s = ok("stats");
  EXPECT_GE(s.at("timestamp_ms").get<long long>(), before);
  EXPECT_LT(s.at("timestamp_ms").get<long long>(), before + 60'000);
  ASSERT_EQ(s.at("uplinks").size(), 1u);
  const json& u = s.at("uplinks").at(0);
  EXPECT_EQ(u.at("name"), "uplink0");
  for (const char* reason :
       {"no_filter", "queue_not_running", "broadcast_multicast", "malformed", "empty_slot", "oversize", "total"}) {
    EXPECT_EQ(u.at("default_queue").at(reason), json({{"packets", 0}, {"bytes", 0}})) << reason;
  }
  EXPECT_EQ(u.at("umem").size(), 6u);
  EXPECT_EQ(u.at("umem").at("frames_lost"), 0);
  ASSERT_EQ(s.at("queues").size(), 2u);
  EXPECT_TRUE(s.at("queues").at(0).contains("worker"));

  const json one = ok("stats", {{"queue", "web2"}});
  ASSERT_EQ(one.at("queues").size(), 1u);
  EXPECT_EQ(one.at("queues").at(0).at("name"), "web2");
  EXPECT_EQ(saves, 0);
}

TEST_F(ControlApiTest, StatsFailsWhenTheDataplaneCannotCount) {
  class NoUmem : public ScriptedDataplane {
   public:
    Result<UmemStats> umem_stats(std::string_view) const override { return fail(Errc::system, "umem map gone"); }
  };
  NoUmem broken;
  QueueManager m(limits(), Placement({}, {0}), broken);
  ControlApi other(m, broken, broken, AgentInfo{"1", "h", std::chrono::steady_clock::now()}, [] { return Result<void>{}; });
  const api::Request request{1, "stats", json::object()};
  const auto reply = test::handle_now(other, request);
  ASSERT_TRUE(reply.error);
  EXPECT_EQ(reply.error->code, Errc::system);
  EXPECT_EQ(reply.error->message, "umem map gone");
}

TEST_F(ControlApiTest, TraceReportsTheFakesPassVerdict) {
  add_two_queues();
  const json t = ok("trace", {{"uplink", "uplink0"}, {"dst", kMacA}, {"vlan", 100}});
  const auto expected_frame = FrameBuilder().dst(*MacAddress::parse(kMacA)).tag(100).build();
  EXPECT_EQ(dp.traced_frame, expected_frame);
  EXPECT_EQ(dp.traced_uplink, "uplink0");
  EXPECT_EQ(dp.traced_rxq, 0u);
  EXPECT_EQ(t.at("uplink"), "uplink0");
  EXPECT_EQ(t.at("rx_queue"), 0);
  EXPECT_EQ(t.at("frame"),
            json({{"dst", kMacA}, {"vlan", 100}, {"vlan2", nullptr}, {"length", expected_frame.size()}}));
  EXPECT_EQ(t.at("output_length"), expected_frame.size());
  EXPECT_EQ(t.at("destination"), "default");
  EXPECT_EQ(t.at("reason"), "no_filter");
  EXPECT_FALSE(t.contains("filter")) << "the verdict names no filter; the API does not look for one";
  EXPECT_EQ(t.at("explanation"),
            std::string("default queue (the host's switch): no filter matches MAC ") + kMacA + " VLAN 100");
  EXPECT_EQ(saves, 0);
}

TEST_F(ControlApiTest, TraceBuildsUntaggedAndQinQFrames) {
  const json untagged = ok("trace", {{"uplink", "uplink0"}, {"dst", kMacB}, {"src", "02:00:00:00:00:09"},
                                     {"rx_queue", 3}});
  EXPECT_EQ(dp.traced_frame,
            FrameBuilder().dst(*MacAddress::parse(kMacB)).src(*MacAddress::parse("02:00:00:00:00:09")).build());
  EXPECT_EQ(dp.traced_rxq, 3u);
  EXPECT_EQ(untagged.at("rx_queue"), 3);
  EXPECT_TRUE(untagged.at("frame").at("vlan").is_null());
  EXPECT_FALSE(untagged.contains("filter"));
  EXPECT_EQ(untagged.at("explanation"),
            std::string("default queue (the host's switch): no filter matches MAC ") + kMacB + " untagged");

  const json qinq = ok("trace", {{"uplink", "uplink0"}, {"dst", kMacB}, {"vlan", 100}, {"vlan2", 200}});
  EXPECT_EQ(dp.traced_frame, FrameBuilder().dst(*MacAddress::parse(kMacB)).tag(100, kTpid8021AD).tag(200).build());
  EXPECT_EQ(qinq.at("frame").at("vlan"), 100);
  EXPECT_EQ(qinq.at("frame").at("vlan2"), 200);
}

TEST_F(ControlApiTest, TraceExplainsARedirectToAQueue) {
  ok("queue.add", web1_params());
  const auto frame = FrameBuilder().dst(*MacAddress::parse(kMacA)).tag(100).build();
  dp.verdict = TraceVerdict{TraceVerdict::Destination::queue, std::nullopt, 1, 1, std::vector<std::uint8_t>(frame.size() - 4)};
  const json t = ok("trace", {{"uplink", "uplink0"}, {"dst", kMacA}, {"vlan", 100}});
  EXPECT_EQ(t.at("destination"), "queue");
  EXPECT_EQ(t.at("queue"), json({{"id", 1}, {"name", "web1"}}));
  EXPECT_EQ(t.at("filter"), json({{"id", 1}}));
  EXPECT_EQ(t.at("tag_removed"), true);
  EXPECT_EQ(t.at("output_length"), frame.size() - 4);
  EXPECT_EQ(t.at("explanation"), std::string("delivered to queue web1 (id 1) by filter 1 (MAC ") + kMacA +
                                     " VLAN 100), VLAN tag removed (access mode)");
}

TEST_F(ControlApiTest, TraceExplainsAFilterOfANonRunningQueue) {
  add_two_queues();
  ok("queue.pause", {{"queue", "web1"}});
  dp.verdict = TraceVerdict{TraceVerdict::Destination::default_queue, DefaultReason::queue_not_running, 1, 1, {}};
  const json t = ok("trace", {{"uplink", "uplink0"}, {"dst", kMacA}, {"vlan", 100}});
  EXPECT_EQ(t.at("destination"), "default");
  EXPECT_EQ(t.at("reason"), "queue_not_running");
  EXPECT_EQ(t.at("queue"), json({{"id", 1}, {"name", "web1"}}));
  EXPECT_EQ(t.at("filter"), json({{"id", 1}}));
  EXPECT_EQ(t.at("explanation"), "default queue (the host's switch): filter 1 matches, but queue web1 is paused");
}

TEST_F(ControlApiTest, TraceExplainsAFilterWhoseQueueHasNoSocketOnTheRxQueue) {
  add_two_queues();
  dp.verdict = TraceVerdict{TraceVerdict::Destination::default_queue, DefaultReason::empty_slot, 1, 1, {}};
  const json t = ok("trace", {{"uplink", "uplink0"}, {"dst", kMacA}, {"vlan", 100}, {"rx_queue", 2}});
  EXPECT_EQ(t.at("reason"), "empty_slot");
  EXPECT_EQ(t.at("filter"), json({{"id", 1}}));
  EXPECT_FALSE(t.contains("queue"));
  EXPECT_EQ(t.at("explanation"),
            "default queue (the host's switch): filter 1 matches, but its queue has no socket on rx queue 2");
}

// The explanation comes from the dataplane's verdict alone: the API looks up
// names, never which filter the frame's key matches.
TEST_F(ControlApiTest, TraceExplainsTheVerdictNotItsOwnFilterLookup) {
  add_two_queues();
  const json f = ok("filter.add", {{"queue", "web2"}, {"mac", kMacB}});
  ASSERT_EQ(f.at("id"), 2);
  ok("queue.pause", {{"queue", "web2"}});
  dp.verdict = TraceVerdict{TraceVerdict::Destination::default_queue, DefaultReason::queue_not_running, 2, 2, {}};
  const json t = ok("trace", {{"uplink", "uplink0"}, {"dst", kMacA}, {"vlan", 100}});  // web1's filter
  EXPECT_EQ(t.at("queue"), json({{"id", 2}, {"name", "web2"}}));
  EXPECT_EQ(t.at("filter"), json({{"id", 2}}));
  EXPECT_EQ(t.at("explanation"), "default queue (the host's switch): filter 2 matches, but queue web2 is paused");
}

TEST_F(ControlApiTest, TraceRefusesBadFrames) {
  struct Case {
    json params;
    const char* message;
  };
  const Case cases[] = {
      {{{"uplink", "uplink0"}}, "parameter 'dst' is required"},
      {{{"dst", kMacA}}, "parameter 'uplink' is required"},
      {{{"uplink", "uplink0"}, {"dst", "52:54:00"}},
       "invalid MAC address '52:54:00' (expected six hex octets like 52:54:00:12:34:56)"},
      {{{"uplink", "uplink0"}, {"dst", kMacA}, {"src", "x"}},
       "invalid MAC address 'x' (expected six hex octets like 52:54:00:12:34:56)"},
      {{{"uplink", "uplink0"}, {"dst", kMacA}, {"vlan", 4096}}, "parameter 'vlan' must be an integer from 0 to 4095"},
      {{{"uplink", "uplink0"}, {"dst", kMacA}, {"vlan", "1"}}, "parameter 'vlan' must be an integer from 0 to 4095"},
      {{{"uplink", "uplink0"}, {"dst", kMacA}, {"vlan2", 7}}, "an inner tag (vlan2) needs an outer one (vlan)"},
      {{{"uplink", "uplink0"}, {"dst", kMacA}, {"rx_queue", 1024}},
       "parameter 'rx_queue' must be an integer from 0 to 1023"},
      {{{"uplink", "uplink0"}, {"dst", kMacA}, {"vlan3", 1}}, "unknown parameter 'vlan3'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.params.dump());
    const Error e = refused("trace", c.params);
    EXPECT_EQ(e.code, Errc::invalid_argument);
    EXPECT_EQ(e.message, c.message);
  }
  EXPECT_TRUE(dp.traced_frame.empty()) << "nothing reached the dataplane";
}

// ---- refusals --------------------------------------------------------------

TEST_F(ControlApiTest, UnknownMethodIsAProtocolError) {
  for (const char* method : {"queue.frobnicate", "", "Status", "queue_add"}) {
    const Error e = refused(method);
    EXPECT_EQ(e.code, Errc::protocol);
    EXPECT_EQ(e.message, fmt::format("unknown method '{}'", method));
  }
  EXPECT_EQ(saves, 0);
}

TEST_F(ControlApiTest, UnknownParametersAreRefusedByEveryMethod) {
  add_two_queues();
  struct Case {
    const char* method;
    json params;
  };
  const Case cases[] = {
      {"status", {{"bogus", 1}}},
      {"caps", {{"bogus", 1}}},
      {"queue.add", {{"name", "web3"}, {"uplink", "uplink0"}, {"port", "port3"}, {"bogus", 1}}},
      {"queue.list", {{"bogus", 1}}},
      {"queue.show", {{"queue", "web1"}, {"bogus", 1}}},
      {"queue.set", {{"queue", "web1"}, {"cpu", 1}, {"bogus", 1}}},
      {"queue.pause", {{"queue", "web1"}, {"bogus", 1}}},
      {"queue.resume", {{"queue", "web1"}, {"bogus", 1}}},
      {"queue.del", {{"queue", "web1"}, {"bogus", 1}}},
      {"filter.add", {{"queue", "web1"}, {"mac", kMacB}, {"bogus", 1}}},
      {"filter.list", {{"bogus", 1}}},
      {"filter.del", {{"filter", 1}, {"bogus", 1}}},
      {"stats", {{"bogus", 1}}},
      {"trace", {{"uplink", "uplink0"}, {"dst", kMacA}, {"bogus", 1}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.method);
    const Error e = refused(c.method, c.params);
    EXPECT_EQ(e.code, Errc::invalid_argument);
    EXPECT_EQ(e.message, "unknown parameter 'bogus'");
  }
  // Inside a filter of queue.add too.
  auto p = web1_params();
  p["name"] = "web3";
  p["port"] = "port3";
  p["filters"] = json::array({{{"mac", kMacB}, {"colour", "red"}}});
  EXPECT_EQ(refused("queue.add", p).message, "queue web3: unknown parameter 'colour'");

  EXPECT_EQ(saves, 0);
  EXPECT_EQ(manager.queues().size(), 2u);
  EXPECT_EQ(manager.filter_count(), 1u);
  ASSERT_NE(manager.queue(1), nullptr);
  EXPECT_EQ(manager.queue(1)->cpu, 0u);
}

TEST_F(ControlApiTest, WrongParameterTypesAreRefusedWithTheParameter) {
  add_two_queues();
  auto add = [](auto change) {
    json p = {{"name", "web3"}, {"uplink", "uplink0"}, {"port", "port3"}};
    change(p);
    return p;
  };
  struct Case {
    const char* method;
    json params;
    const char* message;
  };
  const Case cases[] = {
      {"queue.add", add([](json& p) { p["cpu"] = "1"; }), "parameter 'cpu' must be an integer from 0 to 4095"},
      {"queue.add", add([](json& p) { p["cpu"] = -1; }), "parameter 'cpu' must be an integer from 0 to 4095"},
      {"queue.add", add([](json& p) { p["cpu"] = 1.0; }), "parameter 'cpu' must be an integer from 0 to 4095"},
      {"queue.add", add([](json& p) { p["cpu"] = 4096; }), "parameter 'cpu' must be an integer from 0 to 4095"},
      {"queue.add", add([](json& p) { p["frames"] = "512"; }),
       "parameter 'frames' must be an integer from 0 to 4294967295"},
      {"queue.add", add([](json& p) { p["frames"] = 4294967296; }),
       "parameter 'frames' must be an integer from 0 to 4294967295"},
      {"queue.add", add([](json& p) { p["name"] = 5; }), "parameter 'name' must be a string"},
      {"queue.add", add([](json& p) { p["uplink"] = json::array({"uplink0"}); }),
       "parameter 'uplink' must be a string"},
      {"queue.add", add([](json& p) { p["vm"] = false; }), "parameter 'vm' must be a string"},
      {"queue.add", add([](json& p) { p["vlan_mode"] = 1; }), "parameter 'vlan_mode' must be a string"},
      {"queue.add", add([](json& p) { p["vlan_mode"] = "hybrid"; }),
       "invalid VLAN mode 'hybrid' (expected access or trunk)"},
      {"queue.add", add([](json& p) { p["filters"] = json::object(); }), "parameter 'filters' must be an array"},
      {"queue.add", add([](json& p) { p["filters"] = kMacB; }), "parameter 'filters' must be an array"},
      {"queue.add", add([](json& p) { p["filters"] = json::array({kMacB}); }),
       "queue web3: filters[0] must be an object"},
      {"queue.add", add([](json& p) { p["filters"] = json::array({{{"mac", kMacB}, {"vlan", "100"}}}); }),
       "queue web3: parameter 'vlan' must be an integer (null: untagged)"},
      {"queue.add", add([](json& p) { p["filters"] = json::array({{{"mac", kMacB}, {"vlan", 1.5}}}); }),
       "queue web3: parameter 'vlan' must be an integer (null: untagged)"},
      {"filter.add", {{"queue", "web1"}, {"mac", kMacB}, {"vlan", "100"}},
       "queue web1: parameter 'vlan' must be an integer (null: untagged)"},
      {"filter.add", {{"queue", "web1"}, {"mac", 5}}, "queue web1: parameter 'mac' must be a string"},
      {"filter.add", {{"queue", 1}, {"mac", kMacB}}, "parameter 'queue' must be a string"},
      {"queue.show", {{"queue", 1}}, "parameter 'queue' must be a string"},
      {"queue.set", {{"queue", "web1"}, {"cpu", "1"}}, "parameter 'cpu' must be an integer from 0 to 4095"},
      {"queue.set", {{"queue", "web1"}, {"name", 7}}, "parameter 'name' must be a string"},
      {"filter.del", {{"filter", "1"}}, "parameter 'filter' must be an integer from 0 to 4294967295"},
      {"filter.del", {{"filter", -1}}, "parameter 'filter' must be an integer from 0 to 4294967295"},
      {"caps", {{"uplink", 0}}, "parameter 'uplink' must be a string"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.method) + " " + c.params.dump());
    const Error e = refused(c.method, c.params);
    EXPECT_EQ(e.code, Errc::invalid_argument);
    EXPECT_EQ(e.message, c.message);
  }
  EXPECT_EQ(saves, 0);
  EXPECT_EQ(manager.queues().size(), 2u);
  EXPECT_EQ(manager.filter_count(), 1u);
  EXPECT_FALSE(dp.ports.empty());
}

TEST_F(ControlApiTest, MissingRequiredParametersAreNamed) {
  add_two_queues();
  struct Case {
    const char* method;
    json params;
    const char* message;
  };
  const Case cases[] = {
      {"queue.add", {{"uplink", "uplink0"}, {"port", "port3"}}, "parameter 'name' is required"},
      {"queue.add", {{"name", nullptr}, {"uplink", "uplink0"}, {"port", "port3"}}, "parameter 'name' is required"},
      {"queue.add", {{"name", "web3"}, {"port", "port3"}}, "parameter 'uplink' is required"},
      {"queue.add", {{"name", "web3"}, {"uplink", "uplink0"}}, "parameter 'port' is required"},
      {"queue.add", {{"name", "web3"}, {"uplink", "uplink0"}, {"port", "port3"}, {"filters", json::array({json::object()})}},
       "queue web3: parameter 'mac' is required"},
      {"queue.show", json::object(), "parameter 'queue' is required"},
      {"queue.set", {{"cpu", 1}}, "parameter 'queue' is required"},
      {"queue.pause", json::object(), "parameter 'queue' is required"},
      {"queue.resume", json::object(), "parameter 'queue' is required"},
      {"queue.del", json::object(), "parameter 'queue' is required"},
      {"filter.add", {{"mac", kMacB}}, "parameter 'queue' is required"},
      {"filter.add", {{"queue", "web1"}}, "queue web1: parameter 'mac' is required"},
      {"filter.del", json::object(), "parameter 'filter' is required"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.method) + " " + c.params.dump());
    const Error e = refused(c.method, c.params);
    EXPECT_EQ(e.code, Errc::invalid_argument);
    EXPECT_EQ(e.message, c.message);
  }
  EXPECT_EQ(saves, 0);
}

TEST_F(ControlApiTest, DuplicateMacAndVlanIsAConflict) {
  add_two_queues();
  Error e = refused("filter.add", {{"queue", "web2"}, {"mac", kMacA}, {"vlan", 100}});
  EXPECT_EQ(e.code, Errc::conflict);
  EXPECT_EQ(e.message, "queue web2: MAC 52:54:00:aa:bb:cc VLAN 100 is already used by queue web1 (filter 1)");
  // On the same queue as well.
  e = refused("filter.add", {{"queue", "web1"}, {"mac", kMacA}, {"vlan", 100}});
  EXPECT_EQ(e.message, "queue web1: MAC 52:54:00:aa:bb:cc VLAN 100 is already used by queue web1 (filter 1)");

  // Same MAC on another VLAN, or untagged, is another filter.
  EXPECT_EQ(ok("filter.add", {{"queue", "web2"}, {"mac", kMacA}, {"vlan", 101}}).at("id"), 2);
  EXPECT_EQ(ok("filter.add", {{"queue", "web2"}, {"mac", kMacA}}).at("id"), 3);
  e = refused("filter.add", {{"queue", "web1"}, {"mac", kMacA}, {"vlan", nullptr}});
  EXPECT_EQ(e.code, Errc::conflict);
  EXPECT_EQ(e.message, "queue web1: MAC 52:54:00:aa:bb:cc untagged is already used by queue web2 (filter 3)");
  EXPECT_EQ(saves, 2);
}

TEST_F(ControlApiTest, QueueAddWithAConflictingFilterLeavesNothingBehind) {
  add_two_queues();
  auto p = web1_params();
  p["name"] = "web3";
  p["port"] = "port3";
  p["filters"] = json::array({{{"mac", kMacB}, {"vlan", 5}}, {{"mac", kMacA}, {"vlan", 100}}});
  const Error e = refused("queue.add", p);
  EXPECT_EQ(e.code, Errc::conflict);
  EXPECT_EQ(e.message, "queue web3: MAC 52:54:00:aa:bb:cc VLAN 100 is already used by queue web1 (filter 1)");
  EXPECT_EQ(manager.queues().size(), 2u);
  EXPECT_EQ(manager.filter_count(), 1u);
  EXPECT_EQ(dp.filters.size(), 1u);
  // The attempt changed the records and its rollback restored them: what is
  // saved is the state as it was.
  EXPECT_EQ(saves, 1);
  // Its name, port and first filter are free.
  p["filters"] = json::array({{{"mac", kMacB}, {"vlan", 5}}});
  EXPECT_EQ(ok("queue.add", p).at("name"), "web3");
}

TEST_F(ControlApiTest, VlanOutOfRangeIsRefused) {
  add_two_queues();
  for (long vlan : {0L, 4095L, 5000L, -1L}) {
    SCOPED_TRACE(vlan);
    const std::string message = fmt::format(
        "queue web2: VLAN {} out of range 1..4094 (use --untagged for untagged and priority-tagged frames)", vlan);
    Error e = refused("filter.add", {{"queue", "web2"}, {"mac", kMacB}, {"vlan", vlan}});
    EXPECT_EQ(e.code, Errc::invalid_argument);
    EXPECT_EQ(e.message, message);
    e = refused("queue.add", {{"name", "web2"},
                              {"uplink", "uplink0"},
                              {"port", "port3"},
                              {"filters", json::array({{{"mac", kMacB}, {"vlan", vlan}}})}});
    EXPECT_EQ(e.message, message);
  }
  EXPECT_EQ(ok("filter.add", {{"queue", "web2"}, {"mac", kMacB}, {"vlan", 4094}}).at("vlan"), 4094);
  EXPECT_EQ(ok("filter.add", {{"queue", "web2"}, {"mac", kMacB}, {"vlan", 1}}).at("vlan"), 1);
}

TEST_F(ControlApiTest, InvalidMacIsRefused) {
  add_two_queues();
  struct Case {
    const char* mac;
    const char* message;
  };
  const Case cases[] = {
      {"52:54:00:aa:bb",
       "queue web2: invalid MAC address '52:54:00:aa:bb' (expected six hex octets like 52:54:00:12:34:56)"},
      {"52-54-00-aa-bb-cc",
       "queue web2: invalid MAC address '52-54-00-aa-bb-cc' (expected six hex octets like 52:54:00:12:34:56)"},
      {"", "queue web2: invalid MAC address '' (expected six hex octets like 52:54:00:12:34:56)"},
      {"ff:ff:ff:ff:ff:ff",
       "queue web2: MAC ff:ff:ff:ff:ff:ff is a broadcast/multicast address: VMQ filters match unicast addresses only"},
      {"01:00:5e:00:00:01",
       "queue web2: MAC 01:00:5e:00:00:01 is a broadcast/multicast address: VMQ filters match unicast addresses only"},
      {"00:00:00:00:00:00", "queue web2: MAC 00:00:00:00:00:00 cannot be a filter"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.mac);
    const Error e = refused("filter.add", {{"queue", "web2"}, {"mac", c.mac}});
    EXPECT_EQ(e.code, Errc::invalid_argument);
    EXPECT_EQ(e.message, c.message);
  }
  // Upper case is a valid spelling of the same address.
  EXPECT_EQ(ok("filter.add", {{"queue", "web2"}, {"mac", "52:54:00:AA:BB:DD"}}).at("mac"), kMacB);
}

TEST_F(ControlApiTest, CpuNotOnlineIsRefused) {
  add_two_queues();
  Error e = refused("queue.add", {{"name", "web3"}, {"uplink", "uplink0"}, {"port", "port3"}, {"cpu", 7}});
  EXPECT_EQ(e.code, Errc::invalid_argument);
  EXPECT_EQ(e.message, "queue web3: CPU 7 is not online (usable CPUs: 0,1)");
  e = refused("queue.set", {{"queue", "web1"}, {"cpu", 7}});
  EXPECT_EQ(e.code, Errc::invalid_argument);
  EXPECT_EQ(e.message, "queue web1: CPU 7 is not online (usable CPUs: 0,1)");
  ASSERT_NE(manager.queue(1), nullptr);
  EXPECT_EQ(manager.queue(1)->cpu, 0u);
  EXPECT_EQ(manager.queues().size(), 2u);
  EXPECT_EQ(saves, 0);
}

TEST_F(ControlApiTest, QueueAddRefusalsFromTheManager) {
  add_two_queues();
  Error e = refused("queue.add", {{"name", "web3"}, {"uplink", "eth9"}, {"port", "port3"}});
  EXPECT_EQ(e.code, Errc::not_found);
  EXPECT_EQ(e.message, "queue web3: uplink eth9 is not managed by vmqd (configured uplinks: uplink0)");
  e = refused("queue.add", {{"name", "web3"}, {"uplink", "uplink0"}, {"port", "nope0"}});
  EXPECT_EQ(e.code, Errc::not_found);
  EXPECT_EQ(e.message, "queue web3: port nope0 does not exist");
  e = refused("queue.add", {{"name", "web1"}, {"uplink", "uplink0"}, {"port", "port3"}});
  EXPECT_EQ(e.code, Errc::conflict);
  EXPECT_EQ(e.message, "queue web1: the name is already used by queue 1");
  e = refused("queue.add", {{"name", "web3"}, {"uplink", "uplink0"}, {"port", "port1"}});
  EXPECT_EQ(e.code, Errc::conflict);
  EXPECT_EQ(e.message, "queue web3: port port1 already delivers for queue web1 (id 1)");
  e = refused("queue.add", {{"name", "3"}, {"uplink", "uplink0"}, {"port", "port3"}});
  EXPECT_EQ(e.code, Errc::invalid_argument);
  EXPECT_EQ(e.message, "invalid queue name '3': must not be all digits (digits alone name a queue id)");

  dp.ports.insert("port5");
  ok("queue.add", {{"name", "web3"}, {"uplink", "uplink0"}, {"port", "port3"}});
  ok("queue.add", {{"name", "web4"}, {"uplink", "uplink0"}, {"port", "port4"}});
  saves = 0;
  e = refused("queue.add", {{"name", "web5"}, {"uplink", "uplink0"}, {"port", "port5"}});
  EXPECT_EQ(e.code, Errc::limit_reached);
  EXPECT_EQ(e.message, "queue web5: all 4 queues are allocated (max_queues)");
  EXPECT_EQ(saves, 0);
}

TEST_F(ControlApiTest, UnknownQueuesAreRefusedByNameAndById) {
  add_two_queues();
  struct Case {
    const char* queue;
    Errc code;
    const char* message;
  };
  const Case queues[] = {
      {"nope", Errc::not_found, "no queue named 'nope'"},
      {"9", Errc::not_found, "no queue with id 9"},
      {"0", Errc::invalid_argument, "queue 0 is the default queue (the host's switch): it has no settings"},
      {"", Errc::not_found, "no queue named ''"},
  };
  for (const auto& q : queues) {
    const std::pair<const char*, json> calls[] = {
        {"queue.show", {{"queue", q.queue}}},
        {"queue.set", {{"queue", q.queue}, {"cpu", 1}}},
        {"queue.pause", {{"queue", q.queue}}},
        {"queue.resume", {{"queue", q.queue}}},
        {"queue.del", {{"queue", q.queue}}},
        {"filter.add", {{"queue", q.queue}, {"mac", kMacB}}},
        {"filter.list", {{"queue", q.queue}}},
        {"stats", {{"queue", q.queue}}},
    };
    for (const auto& [method, params] : calls) {
      SCOPED_TRACE(std::string(method) + " " + params.dump());
      const Error e = refused(method, params);
      EXPECT_EQ(e.code, q.code);
      EXPECT_EQ(e.message, q.message);
    }
  }
  const Error e = refused("filter.del", {{"filter", 99}});
  EXPECT_EQ(e.code, Errc::not_found);
  EXPECT_EQ(e.message, "no filter with id 99");
  EXPECT_EQ(refused("filter.del", {{"filter", 0}}).message, "no filter with id 0");
  EXPECT_EQ(saves, 0);
}

TEST_F(ControlApiTest, QueueSetWithABadValueChangesNothing) {
  add_two_queues();
  const json before = ok("queue.show", {{"queue", "web1"}});
  struct Case {
    json params;
    Errc code;
    std::string message;
  };
  const Case cases[] = {
      {{{"queue", "web1"}, {"cpu", 1}, {"name", "bad name"}},
       Errc::invalid_argument,
       "invalid queue name 'bad name': may contain only letters, digits, '_', '.', ':' and '-'"},
      {{{"queue", "web1"}, {"cpu", 1}, {"name", "123"}},
       Errc::invalid_argument,
       "invalid queue name '123': must not be all digits (digits alone name a queue id)"},
      {{{"queue", "web1"}, {"cpu", 1}, {"name", "web2"}},
       Errc::conflict,
       "queue web1: the name web2 is already used by queue 2"},
      {{{"queue", "web1"}, {"cpu", 1}, {"vm", "tab\there"}},
       Errc::invalid_argument,
       "invalid VM name: only printable ASCII characters are allowed"},
      {{{"queue", "web1"}, {"cpu", 1}, {"name", "fine"}, {"vm", std::string(65, 'v')}},
       Errc::invalid_argument,
       fmt::format("invalid VM name '{}': longer than 64 characters", std::string(65, 'v'))},
      {{{"queue", "web1"}, {"cpu", 7}, {"name", "fine"}, {"vm", "ok"}},
       Errc::invalid_argument,
       "queue web1: CPU 7 is not online (usable CPUs: 0,1)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.params.dump());
    const Error e = refused("queue.set", c.params);
    EXPECT_EQ(e.code, c.code);
    EXPECT_EQ(e.message, c.message);
    EXPECT_EQ(ok("queue.show", {{"queue", "1"}}), before);
    EXPECT_EQ(dp.started.at(1).cpu, 0u);
  }
  EXPECT_EQ(std::ranges::count(dp.calls, "move_queue"), 0) << "the worker never moved";
  EXPECT_EQ(saves, 0);
}

TEST_F(ControlApiTest, QueueSetWhenTheMoveFailsChangesNothing) {
  add_two_queues();
  dp.fail_next.insert("move_queue");
  const Error e = refused("queue.set", {{"queue", "web1"}, {"cpu", 1}, {"name", "fine"}, {"vm", "ok"}});
  EXPECT_EQ(e.code, Errc::system);
  EXPECT_EQ(e.message, "move_queue failed (injected)");
  const Queue* q = manager.queue(1);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->cpu, 0u);
  EXPECT_EQ(q->name, "web1");
  EXPECT_EQ(q->vm, "vm-web1");
  EXPECT_EQ(saves, 0);
}

TEST_F(ControlApiTest, FailedSaveTurnsSuccessIntoAnErrorThatSaysSo) {
  save_error = "writing /var/lib/vmq/state.json.tmp: No space left on device";
  const Error e = refused("queue.add", web1_params());
  EXPECT_EQ(e.code, Errc::system);
  EXPECT_EQ(e.message,
            "the change was made but could not be saved, so it will not survive a restart: "
            "writing /var/lib/vmq/state.json.tmp: No space left on device");
  EXPECT_EQ(saves, 1);
  // The change was made.
  save_error.reset();
  EXPECT_EQ(ok("queue.show", {{"queue", "web1"}}).at("state"), "running");

  save_error = "disk gone";
  const std::pair<const char*, json> changes[] = {
      {"queue.set", {{"queue", "web1"}, {"vm", "x"}}},
      {"queue.pause", {{"queue", "web1"}}},
      {"queue.resume", {{"queue", "web1"}}},
      {"filter.add", {{"queue", "web1"}, {"mac", kMacB}}},
      {"filter.del", {{"filter", 2}}},
      {"queue.del", {{"queue", "web1"}}},
  };
  for (const auto& [method, params] : changes) {
    SCOPED_TRACE(method);
    const Error err = refused(method, params);
    EXPECT_EQ(err.code, Errc::system);
    EXPECT_EQ(err.message,
              "the change was made but could not be saved, so it will not survive a restart: disk gone");
  }
  EXPECT_EQ(manager.queues().size(), 0u) << "queue.del happened";
  // Queries do not save, so they are not affected.
  ok("queue.list");
}

TEST_F(ControlApiTest, StateIsSavedExactlyAfterSuccessfulChanges) {
  std::vector<std::size_t> queues_at_save;
  on_save = [&] { queues_at_save.push_back(manager.queues().size()); };
  struct Step {
    const char* method;
    json params;
    bool succeeds;
    bool saves;
  };
  const Step steps[] = {
      {"status", json::object(), true, false},
      {"caps", json::object(), true, false},
      {"queue.add", web1_params(), true, true},
      {"queue.add", web1_params(), false, false},  // duplicate
      {"queue.list", json::object(), true, false},
      {"queue.show", {{"queue", "web1"}}, true, false},
      {"queue.set", {{"queue", "web1"}, {"cpu", 1}}, true, true},
      {"queue.set", {{"queue", "web1"}, {"cpu", 9}}, false, false},
      {"queue.pause", {{"queue", "web1"}}, true, true},
      {"queue.resume", {{"queue", "web1"}}, true, true},
      {"queue.resume", {{"queue", "nope"}}, false, false},
      {"filter.add", {{"queue", "web1"}, {"mac", kMacB}}, true, true},
      {"filter.add", {{"queue", "web1"}, {"mac", kMacB}}, false, false},
      {"filter.list", json::object(), true, false},
      {"stats", json::object(), true, false},
      {"trace", {{"uplink", "uplink0"}, {"dst", kMacA}}, true, false},
      {"filter.del", {{"filter", 2}}, true, true},
      {"filter.del", {{"filter", 2}}, false, false},
      {"nonsense", json::object(), false, false},
      {"queue.del", {{"queue", "web1"}}, true, true},
      {"queue.del", {{"queue", "web1"}}, false, false},
  };
  for (const auto& s : steps) {
    SCOPED_TRACE(std::string(s.method) + " " + s.params.dump());
    const int before = saves;
    const auto reply = call(s.method, s.params);
    EXPECT_EQ(!reply.error, s.succeeds) << (reply.error ? reply.error->message : reply.result.dump());
    EXPECT_EQ(saves - before, s.saves ? 1 : 0);
  }
  // Saved after the change was made: the state written is the new one.
  EXPECT_EQ(queues_at_save, (std::vector<std::size_t>{1, 1, 1, 1, 1, 1, 0}));
}

TEST_F(ControlApiTest, AnExceptionInAHandlerBecomesAnErrorReply) {
  dp.throw_in_uplinks = true;
  const Error e = refused("status");
  EXPECT_EQ(e.code, Errc::system);
  EXPECT_EQ(e.message, "internal error in status: boom");
  dp.throw_in_uplinks = false;
  EXPECT_EQ(ok("status").at("queues"), 0) << "the API keeps serving";
  // A state-changing method that throws does not save.
  dp.throw_in_uplinks = true;
  EXPECT_EQ(refused("queue.add", web1_params()).message, "internal error in queue.add: boom");
  EXPECT_EQ(saves, 0);
}

// ---- changes that fail half way ---------------------------------------------

TEST_F(ControlApiTest, QueueDelWhoseDrainFailsStillForgetsTheQueueAndMustSaveThat) {
  add_two_queues();
  std::vector<std::size_t> queues_at_save;
  on_save = [&] { queues_at_save.push_back(manager.queues().size()); };
  dp.fail_next.insert("drain_probe");
  const Error e = refused("queue.del", {{"queue", "web1"}});
  EXPECT_EQ(e.code, Errc::system);
  EXPECT_TRUE(e.message.find("drain_probe failed (injected)") != std::string::npos) << e.message;
  EXPECT_EQ(manager.queue(1), nullptr) << "QueueManager::free() forgets the queue even when the drain fails";
  // The refused call changed the manager: what was saved is the state without web1, or it would come back at the
  // next start.
  EXPECT_EQ(saves, 1);
  EXPECT_EQ(queues_at_save, (std::vector<std::size_t>{1}));
}

TEST_F(ControlApiTest, FilterAddWhosePublishFailsKeepsTheFilterAndMustSaveThat) {
  add_two_queues();
  // web2 has no filter: its first one makes it run, which is published.
  dp.fail_next.insert("publish_queue_state");
  const Error e = refused("filter.add", {{"queue", "web2"}, {"mac", kMacB}});
  EXPECT_EQ(e.code, Errc::system);
  EXPECT_TRUE(e.message.find("publish_queue_state failed (injected)") != std::string::npos) << e.message;
  // QueueManager::set_filter() recorded the installed filter before the publish failed: it stays, so it is saved,
  // or the saved state and the running state would differ.
  EXPECT_EQ(manager.filters_of(2).size(), 1u);
  EXPECT_EQ(saves, 1);
}

// ---- parameter reading -------------------------------------------------------

TEST(RequestParams, ReadsTypedValuesAndTreatsNullAsAbsent) {
  auto set = api::params_from_json<api::QueueSetParams>(json::parse(R"({"queue":"x","cpu":7,"name":null})"));
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(set->queue, "x");
  EXPECT_EQ(set->cpu, 7u);
  EXPECT_EQ(set->name, std::nullopt);
  EXPECT_EQ(set->vm, std::nullopt);
  auto message = [](const char* text) {
    auto p = api::params_from_json<api::QueueSetParams>(json::parse(text));
    return p ? std::string("accepted") : p.error().message;
  };
  EXPECT_EQ(message(R"({"queue":"x","z":null})"), "unknown parameter 'z'");
  EXPECT_EQ(message(R"({"queue":null})"), "parameter 'queue' is required");
  EXPECT_EQ(message(R"({"queue":7})"), "parameter 'queue' must be a string");
  EXPECT_EQ(message(R"({"queue":"x","cpu":4096})"), "parameter 'cpu' must be an integer from 0 to 4095");
  EXPECT_EQ(message(R"({"queue":"x","cpu":true})"), "parameter 'cpu' must be an integer from 0 to 4095");
}

TEST(RequestParams, NonNegativeIntegersBuiltInProcessAreUnsignedIntegers) {
  // JSON parsed from the wire stores 5 as unsigned; json(5) built in process
  // (a caller of ControlApi::handle that is not the socket) stores it signed.
  const json j = {{"queue", "x"}, {"cpu", 5}};
  ASSERT_TRUE(j.at("cpu").is_number_integer());
  auto cpu = api::params_from_json<api::QueueSetParams>(j);
  ASSERT_TRUE(cpu) << cpu.error().message;
  EXPECT_EQ(cpu->cpu, 5u);
  // Negative ones are still refused, signed or not.
  const json negative = {{"queue", "x"}, {"cpu", -1}};
  EXPECT_EQ(api::params_from_json<api::QueueSetParams>(negative).error().message,
            "parameter 'cpu' must be an integer from 0 to 4095");
}

TEST_F(ControlApiTest, VlanBeyondLongIsReportedAsGiven) {
  add_two_queues();
  const Error e = refused("filter.add", {{"queue", "web2"}, {"mac", kMacB}, {"vlan", UINT64_MAX}});
  EXPECT_EQ(e.code, Errc::invalid_argument);
  const std::string expected =
      "queue web2: VLAN 18446744073709551615 out of range 1..4094 (use --untagged for untagged and priority-tagged "
      "frames)";
  // Not as what a narrowing to long made of it (-1).
  EXPECT_EQ(e.message, expected);
}

}  // namespace
}  // namespace vmq::service
