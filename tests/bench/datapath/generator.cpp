#include "generator.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <net/if.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "gen_tx.skel.h"
#include "netns.h"

namespace vmq::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kFirstRepeat = 1u << 20;
constexpr std::uint32_t kMinRepeat = 1u << 16;
constexpr std::uint32_t kMaxRepeat = 1u << 26;
constexpr double kCallSeconds = 1.0;
constexpr std::size_t kMaxFlows = 8;

std::uint32_t next_repeat(std::uint32_t repeat, Clock::duration took) {
  const double seconds = std::chrono::duration<double>(took).count();
  if (seconds <= 0) return repeat;
  const double scaled = static_cast<double>(repeat) * kCallSeconds / seconds;
  return static_cast<std::uint32_t>(std::clamp(scaled, double{kMinRepeat}, double{kMaxRepeat}));
}

}  // namespace

Result<std::unique_ptr<Generator>> Generator::load(const GeneratorConfig& config) {
  if (config.flows.empty() || config.flows.size() > kMaxFlows)
    return fail(Errc::invalid_argument, fmt::format("the generator takes 1 to {} flows", kMaxFlows));
  std::unique_ptr<Generator> generator(new Generator(config));
  if (auto ok = generator->configure_and_load(); !ok) return std::unexpected(ok.error());
  return generator;
}

Result<void> Generator::configure_and_load() {
  skel_ = gen_tx__open();
  if (!skel_) return fail_errno(errno, "opening the generator's BPF object");
  skel_->rodata->flow_count = static_cast<std::uint32_t>(config_.flows.size());
  skel_->rodata->source_ports = config_.source_ports;
  for (std::size_t i = 0; i < config_.flows.size(); ++i) {
    const auto& mac = config_.flows[i].mac.bytes();
    std::copy(mac.begin(), mac.end(), skel_->rodata->flow_macs[i]);
    skel_->rodata->flow_vlans[i] = config_.flows[i].vlan;
  }
  const auto& source = config_.source.bytes();
  std::copy(source.begin(), source.end(), skel_->rodata->source_mac);
  if (int err = gen_tx__load(skel_)) return fail_errno(-err, "loading the generator's BPF program");
  frame_ = template_frame(config_.flows.front(), config_.source);
  return {};
}

Generator::~Generator() {
  (void)stop();
  if (skel_) gen_tx__destroy(skel_);
}

Result<void> Generator::start() {
  if (thread_.joinable()) return fail(Errc::invalid_state, "the generator is already running");
  stop_ = false;
  outcome_ = {};
  thread_ = std::thread(&Generator::run, this);
  return {};
}

Result<void> Generator::stop() {
  if (!thread_.joinable()) return outcome_;
  stop_ = true;
  thread_.join();
  return outcome_;
}

std::uint64_t Generator::frames_sent() const {
  return __atomic_load_n(&skel_->bss->frames_sent, __ATOMIC_RELAXED);
}

void Generator::run() {
  // This thread only: the caller stays where it is.
  if (auto ok = enter_netns_for_good(config_.netns); !ok) {
    outcome_ = ok;
    return;
  }
  if (auto ok = pin_thread_to_cpu(config_.cpu); !ok) {
    outcome_ = ok;
    return;
  }
  const unsigned ifindex = if_nametoindex(config_.device.c_str());
  if (ifindex == 0) {
    outcome_ = fail_errno(errno, fmt::format("generator device {} in {}", config_.device, config_.netns));
    return;
  }
  outcome_ = send_until_stopped(static_cast<int>(ifindex));
}

Result<void> Generator::send_until_stopped(int ifindex) {
  xdp_md context{};
  context.data_end = static_cast<std::uint32_t>(frame_.size());  // the kernel insists
  context.ingress_ifindex = static_cast<std::uint32_t>(ifindex);
  std::uint32_t repeat = kFirstRepeat;
  const auto deadline = Clock::now() + config_.max_run;
  while (!stop_.load(std::memory_order_relaxed) && Clock::now() < deadline) {
    LIBBPF_OPTS(bpf_test_run_opts, opts);
    opts.data_in = frame_.data();
    opts.data_size_in = static_cast<std::uint32_t>(frame_.size());
    opts.ctx_in = &context;
    opts.ctx_size_in = sizeof context;
    opts.repeat = repeat;
    opts.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
    const auto started = Clock::now();
    if (bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.gen_tx), &opts) != 0) {
      // A signal for the process (SIGCHLD of a vmqctl the main thread ran)
      // may land on this thread: the kernel then ends the run early.
      if (errno == EINTR) continue;
      return fail_errno(errno, fmt::format("BPF_PROG_RUN (live frames) on {}", config_.device));
    }
    repeat = next_repeat(repeat, Clock::now() - started);
  }
  return {};
}

}  // namespace vmq::bench
