// vmq's receive path without delivery: the production classifier
// (vmq::os::Classifier) attached with vmq::os::XdpAttachment, the uplink's
// UMEM (vmq::os::UplinkUmem, with its anchor socket and locked fill ring) and
// one vmq::os::XskRxSocket per VM queue on rx queue 0, in the classifier's
// XSKMAP. Only the consumer is the benchmark's: it counts what each queue's
// RX ring holds and gives it back through UplinkUmem::recycle(), batch by
// batch and queue by queue as a vmqd worker does, instead of delivering it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "frames.h"
#include "os/classifier.h"
#include "os/uplink_umem.h"
#include "os/xdp_attachment.h"
#include "os/xsk_rx_socket.h"
#include "receiver.h"

namespace vmq::bench {

struct VmqReceiverConfig {
  std::string device;
  std::vector<Flow> flows;  // one VM queue per flow, filter (MAC, VLAN), trunk mode
  std::uint32_t umem_frames = 4096;
  std::uint32_t queue_frames = 512;  // vmqd's default RX ring per queue
};

class VmqReceiver final : public Receiver {
 public:
  // Called inside the device's namespace.
  static Result<std::unique_ptr<VmqReceiver>> create(const VmqReceiverConfig& config);
  ~VmqReceiver() override;

  std::string id() const override { return "vmq"; }
  std::string label() const override;
  Result<void> start(unsigned cpu) override;
  void stop() override { consumer_.stop(); }
  Result<std::uint64_t> frames() const override { return consumer_.frames(); }
  Result<nlohmann::json> counters() const override;
  std::string attach_method() const { return attachment_ ? attachment_->method() : ""; }

 private:
  explicit VmqReceiver(VmqReceiverConfig config) : config_(std::move(config)) {}
  Result<void> open();
  Result<void> add_queue(std::uint32_t queue_id, const Flow& flow);
  unsigned recycle_received();

  VmqReceiverConfig config_;
  std::optional<os::Classifier> classifier_;
  std::optional<os::XdpAttachment> attachment_;
  std::unique_ptr<os::UplinkUmem> umem_;
  std::vector<std::unique_ptr<os::XskRxSocket>> sockets_;
  std::vector<std::uint64_t> returns_;
  PollingThread consumer_;
};

}  // namespace vmq::bench
