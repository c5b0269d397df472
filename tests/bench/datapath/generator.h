// The traffic source: BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES on
// gen_tx.bpf.c, from a thread pinned to one CPU inside the namespace of the
// sending veth. Each call sends `repeat` frames out of that veth (XDP_TX);
// its peer, which must run an XDP program, receives them in softirq on the
// same CPU. A call also sleeps about 24 ms whatever `repeat` is, so repeat is
// adapted until a call lasts about a second.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "frames.h"

struct gen_tx;

namespace vmq::bench {

struct GeneratorConfig {
  std::string netns;   // where `device` is
  std::string device;  // the sending veth
  unsigned cpu = 0;
  std::vector<Flow> flows;  // at most 8, rotated frame by frame
  MacAddress source;
  std::chrono::seconds max_run{120};  // a run ends by itself after this
  unsigned source_ports = 1;  // UDP source ports rotated frame by frame: IP flows for VMMQ
};

class Generator {
 public:
  static Result<std::unique_ptr<Generator>> load(const GeneratorConfig& config);
  ~Generator();
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  // Sends until stop(), from a thread of its own.
  Result<void> start();
  // Returns once the call in progress has ended; reports a failed call.
  Result<void> stop();
  // Frames the program has passed to XDP_TX so far (all runs).
  std::uint64_t frames_sent() const;

 private:
  explicit Generator(GeneratorConfig config) : config_(std::move(config)) {}
  Result<void> configure_and_load();
  void run();
  Result<void> send_until_stopped(int ifindex);

  GeneratorConfig config_;
  gen_tx* skel_ = nullptr;
  std::vector<std::uint8_t> frame_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  Result<void> outcome_;
};

}  // namespace vmq::bench
