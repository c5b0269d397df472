// The yardstick: one AF_XDP socket behind libxdp's default program
// (xsk_socket__create without XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD), a UMEM
// of its own, and a consumer that moves each received frame straight back
// to the fill ring.
#pragma once

#include <xdp/xsk.h>

#include <memory>
#include <string>

#include "receiver.h"

namespace vmq::bench {

class RawXskReceiver final : public Receiver {
 public:
  // Called inside the device's namespace.
  static Result<std::unique_ptr<RawXskReceiver>> create(const std::string& device, std::uint32_t umem_frames);
  ~RawXskReceiver() override;

  std::string id() const override { return "raw_xsk"; }
  std::string label() const override { return "one AF_XDP socket, libxdp default program (" + attached_as_ + ")"; }
  Result<void> start(unsigned cpu) override;
  void stop() override { consumer_.stop(); }
  Result<std::uint64_t> frames() const override { return consumer_.frames(); }
  Result<nlohmann::json> counters() const override;

 private:
  RawXskReceiver() = default;
  Result<void> open(const std::string& device, std::uint32_t umem_frames);
  unsigned recycle_received();

  void* area_ = nullptr;
  std::size_t area_size_ = 0;
  xsk_umem* umem_ = nullptr;
  xsk_socket* socket_ = nullptr;
  std::string attached_as_;  // how libxdp put its program on the device
  xsk_ring_prod fill_{};
  xsk_ring_cons completion_{};
  xsk_ring_cons rx_{};
  PollingThread consumer_;
};

// XDP_STATISTICS of one AF_XDP socket as JSON (the counters the kernel has).
Result<nlohmann::json> xdp_statistics_of(int xsk_fd);

}  // namespace vmq::bench
