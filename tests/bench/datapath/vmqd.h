// A real vmqd in one of the benchmark's namespaces, driven with vmqctl.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "process.h"

namespace vmq::bench {

struct VmqdOptions {
  std::string vmqd;    // binary
  std::string vmqctl;  // binary
  std::string netns;
  std::string uplink;
  std::string workdir;  // socket, state and log go here
  std::uint32_t max_queues = 64;
  std::uint32_t umem_frames = 4096;  // per rx queue
  // vmqd's configuration file: /dev/null (none), or a TOML file the caller
  // writes and may rewrite before reload(). The flags above override it.
  std::string config = "/dev/null";
};

class Vmqd {
 public:
  static Result<std::unique_ptr<Vmqd>> start(const VmqdOptions& options);
  ~Vmqd();
  Vmqd(const Vmqd&) = delete;
  Vmqd& operator=(const Vmqd&) = delete;

  pid_t pid() { return process_.pid(); }
  // vmqctl --json ARGS; an error unless vmqctl succeeds.
  Result<nlohmann::json> ctl(const std::vector<std::string>& args);
  // SIGHUP: vmqd re-reads its configuration file (the caller checks the
  // effect, e.g. with `status`: the signal is not answered).
  Result<void> reload();
  // SIGTERM (vmqd drains its queues and detaches), bounded.
  Result<void> stop();
  std::string log_tail() const;

 private:
  Vmqd(VmqdOptions options, ChildProcess process, std::string socket, std::string log)
      : options_(std::move(options)), process_(std::move(process)), socket_(std::move(socket)), log_(std::move(log)) {}
  Result<void> wait_ready();

  VmqdOptions options_;
  ChildProcess process_;
  std::string socket_;
  std::string log_;
};

}  // namespace vmq::bench
