// Programs the benchmark runs: vmqd (in the background, logged to a file)
// and short commands (vmqctl, ip, bridge) whose output it reads. Every wait
// is bounded.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "core/error.h"

namespace vmq::bench {

struct CommandResult {
  int status = -1;  // exit status, or 128 + signal
  std::string out;
  std::string err;
};

Result<CommandResult> run_command(const std::vector<std::string>& argv,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(60));
// Like run_command, but a non-zero exit status is an error naming the command.
Result<std::string> run_checked(const std::vector<std::string>& argv,
                                std::chrono::milliseconds timeout = std::chrono::seconds(60));

// A background process; killed (SIGKILL) when the handle goes away.
class ChildProcess {
 public:
  static Result<ChildProcess> spawn(const std::vector<std::string>& argv, const std::string& log_path);
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool running();
  // SIGTERM, then SIGKILL after `grace`; returns the exit status.
  int terminate(std::chrono::milliseconds grace);

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  bool reap(int options);

  pid_t pid_ = -1;
  int status_ = -1;
};

}  // namespace vmq::bench
