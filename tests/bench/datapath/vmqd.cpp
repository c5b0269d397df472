#include "vmqd.h"

#include <signal.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

namespace vmq::bench {
namespace {

constexpr auto kReadyTimeout = std::chrono::seconds(20);
constexpr auto kStopGrace = std::chrono::seconds(20);
constexpr auto kCtlTimeout = std::chrono::seconds(30);
constexpr std::size_t kLogTailBytes = 2000;

}  // namespace

Result<std::unique_ptr<Vmqd>> Vmqd::start(const VmqdOptions& options) {
  std::error_code ec;
  const std::filesystem::path dir(options.workdir);
  std::filesystem::remove_all(dir / "state", ec);
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(Errc::system, fmt::format("creating {}: {}", options.workdir, ec.message()));
  const std::string socket = (dir / "vmqd.sock").string();
  const std::string log = (dir / "vmqd.log").string();
  const std::vector<std::string> argv = {
      "ip", "netns", "exec", options.netns, options.vmqd, "--config", options.config, "--socket", socket,
      "--state-dir", (dir / "state").string(), "--socket-group", "", "--uplink", options.uplink,
      "--max-queues", std::to_string(options.max_queues), "--max-filters", std::to_string(std::max(options.max_queues, 1024u)),
      "--umem-frames", std::to_string(options.umem_frames), "--log-level", "notice"};
  auto process = ChildProcess::spawn(argv, log);
  if (!process) return std::unexpected(process.error());
  std::unique_ptr<Vmqd> vmqd(new Vmqd(options, std::move(*process), socket, log));
  if (auto ok = vmqd->wait_ready(); !ok) return std::unexpected(ok.error());
  return vmqd;
}

Vmqd::~Vmqd() { (void)stop(); }

Result<void> Vmqd::wait_ready() {
  const auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_.running())
      return fail(Errc::system, fmt::format("vmqd exited before it was ready:\n{}", log_tail()));
    auto status = run_command({options_.vmqctl, "--socket", socket_, "--json", "status"}, std::chrono::seconds(5));
    if (status && status->status == 0) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return fail(Errc::timeout, fmt::format("vmqd did not answer within {} s:\n{}", kReadyTimeout.count(), log_tail()));
}

Result<nlohmann::json> Vmqd::ctl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {options_.vmqctl, "--socket", socket_, "--json"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto out = run_checked(argv, kCtlTimeout);
  if (!out) return std::unexpected(out.error());
  if (out->empty()) return nlohmann::json::object();
  auto parsed = nlohmann::json::parse(*out, nullptr, false);
  if (parsed.is_discarded()) return fail(Errc::protocol, fmt::format("vmqctl printed no JSON: {}", *out));
  return parsed;
}

Result<void> Vmqd::reload() {
  // `ip netns exec` execs vmqd in place: the child is vmqd itself.
  if (!process_.running()) return fail(Errc::system, fmt::format("vmqd is not running:\n{}", log_tail()));
  if (::kill(process_.pid(), SIGHUP) != 0) return fail_errno(errno, "sending SIGHUP to vmqd");
  return {};
}

Result<void> Vmqd::stop() {
  if (!process_.running()) return {};
  const int status = process_.terminate(kStopGrace);
  if (status != 0) return fail(Errc::system, fmt::format("vmqd stopped with status {}:\n{}", status, log_tail()));
  return {};
}

std::string Vmqd::log_tail() const {
  std::ifstream in(log_);
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  return all.size() > kLogTailBytes ? all.substr(all.size() - kLogTailBytes) : all;
}

}  // namespace vmq::bench
