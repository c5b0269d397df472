// The ceiling of the receive path: an XDP program that counts and drops
// every frame (drop_count.bpf.c), attached through a bpf_link, no consumer.
#pragma once

#include <memory>
#include <string>

#include "receiver.h"

struct drop_count;
struct bpf_link;

namespace vmq::bench {

class XdpDropReceiver final : public Receiver {
 public:
  // Called inside the device's namespace.
  static Result<std::unique_ptr<XdpDropReceiver>> create(const std::string& device);
  ~XdpDropReceiver() override;

  std::string id() const override { return "xdp_drop"; }
  std::string label() const override { return "XDP_DROP with a per-CPU counter (ceiling)"; }
  Result<void> start(unsigned) override { return {}; }
  void stop() override {}
  Result<std::uint64_t> frames() const override;
  Result<nlohmann::json> counters() const override { return nlohmann::json::object(); }

 private:
  XdpDropReceiver() = default;
  drop_count* skel_ = nullptr;
  bpf_link* link_ = nullptr;
};

}  // namespace vmq::bench
