#include "receive_case.h"

#include <iostream>
#include <map>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "counter_difference.h"
#include "drop_receiver.h"
#include "frames.h"
#include "generator.h"
#include "link_stats.h"
#include "netns.h"
#include "raw_receiver.h"
#include "vmq_receiver.h"
#include "window.h"

namespace vmq::bench {
namespace {

constexpr unsigned kFlows = 8;

// One receiver on the r<case> end of a veth pair, fed from the g<case> end.
struct ReceiveSetup {
  std::unique_ptr<Receiver> receiver;
  std::unique_ptr<Generator> generator;
  std::string device;
};

Result<std::unique_ptr<Receiver>> make_receiver(const std::string& id, const std::string& device,
                                                const std::vector<Flow>& flows, const Options& options) {
  auto upcast = [](auto made) -> Result<std::unique_ptr<Receiver>> {
    if (!made) return std::unexpected(made.error());
    return std::unique_ptr<Receiver>(std::move(*made));
  };
  if (id == "raw") return upcast(RawXskReceiver::create(device, options.umem_frames));
  if (id == "vmq") return upcast(VmqReceiver::create({device, flows, options.umem_frames, 512}));
  return upcast(XdpDropReceiver::create(device));
}

Result<std::vector<ReceiveSetup>> set_up(const Options& options, const std::vector<Flow>& flows) {
  std::vector<ReceiveSetup> setups;
  for (const char* id : {"raw", "vmq", "drop"}) {
    auto receiver = make_receiver(id, std::string("r") + id, flows, options);
    if (!receiver) return fail(receiver.error().code, fmt::format("receive case {}: {}", id, receiver.error().message));
    auto generator = Generator::load({options.receive_netns, std::string("g") + id, options.generator_cpu, flows, kWireMac});
    if (!generator) return std::unexpected(generator.error());
    setups.push_back({std::move(*receiver), std::move(*generator), std::string("r") + id});
  }
  return setups;
}

struct Snapshot {
  std::uint64_t frames = 0;
  std::uint64_t sent = 0;
  LinkCounters link;
  nlohmann::json counters;
};

Result<Snapshot> snapshot_of(ReceiveSetup& setup, const LinkStatsReader& links) {
  Snapshot s;
  auto frames = setup.receiver->frames();
  if (!frames) return std::unexpected(frames.error());
  s.frames = *frames;
  s.sent = setup.generator->frames_sent();
  auto link = links.read(setup.device);
  if (!link) return std::unexpected(link.error());
  s.link = *link;
  auto counters = setup.receiver->counters();
  if (!counters) return std::unexpected(counters.error());
  s.counters = std::move(*counters);
  return s;
}

Result<nlohmann::json> measure_one(ReceiveSetup& setup, const LinkStatsReader& links, const Options& options) {
  if (auto ok = setup.receiver->start(options.consumer_cpu); !ok) return std::unexpected(ok.error());
  Snapshot start, end;
  WindowProbe probe{[&]() -> Result<void> {
                      auto s = snapshot_of(setup, links);
                      if (!s) return std::unexpected(s.error());
                      start = std::move(*s);
                      return {};
                    },
                    [&]() -> Result<void> {
                      auto s = snapshot_of(setup, links);
                      if (!s) return std::unexpected(s.error());
                      end = std::move(*s);
                      return {};
                    }};
  auto seconds = measure_window(*setup.generator, options.warmup_seconds, options.window_seconds, probe);
  setup.receiver->stop();
  if (!seconds) return std::unexpected(seconds.error());
  if (end.frames <= start.frames)
    return fail(Errc::system, fmt::format("{}: no frame reached the consumer in the window", setup.device));
  const LinkCounters link = end.link - start.link;
  return nlohmann::json{{"mpps", per_second_millions(end.frames - start.frames, *seconds)},
                        {"offered_mpps", per_second_millions(end.sent - start.sent, *seconds)},
                        {"seconds", *seconds},
                        {"frames", end.frames - start.frames},
                        {"device_rx_packets", link.rx_packets},
                        {"device_rx_dropped", link.rx_dropped},
                        {"counters", counter_difference(end.counters, start.counters)}};
}

// Round r runs the cases in an order rotated by r, so no case always runs
// first (or right after the same neighbour).
std::vector<std::size_t> order_of_round(unsigned round, std::size_t cases) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < cases; ++i) order.push_back((i + round) % cases);
  if (round % 2) std::reverse(order.begin(), order.end());
  return order;
}

}  // namespace

Result<nlohmann::json> run_receive_case(const Options& options) {
  // Set up and taken down inside the namespace: libxdp and vmq's attachment
  // name the devices by ifindex over netlink, which is per namespace.
  auto inside = NetnsGuard::enter(options.receive_netns);
  if (!inside) return std::unexpected(inside.error());
  const auto flows = make_flows(kFirstVmMac, kFirstVlan, kFlows);
  auto setups = set_up(options, flows);
  if (!setups) return std::unexpected(setups.error());
  auto links = LinkStatsReader::open(options.receive_netns);
  if (!links) return std::unexpected(links.error());

  nlohmann::json cases = nlohmann::json::object();
  for (auto& s : *setups) {
    cases[s.receiver->id()] = {{"label", s.receiver->label()}};
    if (auto* vmq = dynamic_cast<VmqReceiver*>(s.receiver.get())) cases[vmq->id()]["attach_method"] = vmq->attach_method();
  }
  nlohmann::json rounds = nlohmann::json::array();
  for (unsigned r = 0; r < options.rounds; ++r) {
    nlohmann::json round = {{"order", nlohmann::json::array()}, {"cases", nlohmann::json::object()}};
    for (std::size_t index : order_of_round(r, setups->size())) {
      ReceiveSetup& setup = (*setups)[index];
      auto figures = measure_one(setup, *links, options);
      if (!figures) return fail(figures.error().code, fmt::format("receive case {}, round {}: {}", setup.receiver->id(),
                                                                  r + 1, figures.error().message));
      std::cerr << fmt::format("receive round {}: {:<9} {:.3f} Mpps (offered {:.3f})\n", r + 1, setup.receiver->id(),
                               (*figures)["mpps"].get<double>(), (*figures)["offered_mpps"].get<double>());
      round["order"].push_back(setup.receiver->id());
      round["cases"][setup.receiver->id()] = std::move(*figures);
    }
    rounds.push_back(std::move(round));
  }
  return nlohmann::json{{"cases", cases}, {"rounds", rounds}};
}

}  // namespace vmq::bench
