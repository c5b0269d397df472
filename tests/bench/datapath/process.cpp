#include "process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/unique_fd.h"

extern char** environ;

namespace vmq::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<char*> c_arguments(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

int exit_status_of(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

struct Pipe {
  UniqueFd read_end;
  UniqueFd write_end;
};

Result<Pipe> make_pipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return fail_errno(errno, "creating a pipe");
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Reads both pipes until they close or the deadline passes.
bool drain_until(Pipe& out, Pipe& err, std::string& out_text, std::string& err_text, Clock::time_point deadline) {
  std::array<pollfd, 2> fds{pollfd{out.read_end.get(), POLLIN, 0}, pollfd{err.read_end.get(), POLLIN, 0}};
  std::array<std::string*, 2> texts{&out_text, &err_text};
  int open_pipes = 2;
  while (open_pipes > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    if (poll(fds.data(), fds.size(), static_cast<int>(left)) < 0 && errno != EINTR) return false;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buffer[4096];
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        texts[i]->append(buffer, static_cast<std::size_t>(n));
      } else {
        fds[i].fd = -1;
        --open_pipes;
      }
    }
  }
  return true;
}

// Starts `argv` with the descriptors `actions` sets up and stdin from
// /dev/null; takes care of `actions`.
Result<pid_t> spawn_with(const std::vector<std::string>& argv, posix_spawn_file_actions_t& actions) {
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  pid_t pid = -1;
  auto args = c_arguments(argv);
  const int spawned = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return fail_errno(spawned, fmt::format("starting {}", argv[0]));
  return pid;
}

}  // namespace

Result<CommandResult> run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  auto out = make_pipe();
  auto err = make_pipe();
  if (!out || !err) return std::unexpected(out ? err.error() : out.error());
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out->write_end.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err->write_end.get(), STDERR_FILENO);
  auto spawned = spawn_with(argv, actions);
  if (!spawned) return std::unexpected(spawned.error());
  const pid_t pid = *spawned;
  out->write_end.reset();
  err->write_end.reset();

  CommandResult result;
  const bool finished = drain_until(*out, *err, result.out, result.err, Clock::now() + timeout);
  if (!finished) kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!finished)
    return fail(Errc::timeout, fmt::format("{} did not finish within {} ms", fmt::join(argv, " "), timeout.count()));
  result.status = exit_status_of(status);
  return result;
}

Result<std::string> run_checked(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  auto result = run_command(argv, timeout);
  if (!result) return std::unexpected(result.error());
  if (result->status != 0)
    return fail(Errc::system, fmt::format("{} failed ({}): {}{}", fmt::join(argv, " "), result->status, result->out,
                                          result->err));
  return std::move(result->out);
}

Result<ChildProcess> ChildProcess::spawn(const std::vector<std::string>& argv, const std::string& log_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  auto spawned = spawn_with(argv, actions);
  if (!spawned) return std::unexpected(spawned.error());
  return ChildProcess(*spawned);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), status_(other.status_) {}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && running()) {
    kill(pid_, SIGKILL);
    reap(0);
  }
}

bool ChildProcess::reap(int options) {
  int status = 0;
  if (waitpid(pid_, &status, options) != pid_) return false;
  status_ = exit_status_of(status);
  pid_ = -1;
  return true;
}

bool ChildProcess::running() { return pid_ > 0 && !reap(WNOHANG); }

int ChildProcess::terminate(std::chrono::milliseconds grace) {
  if (!running()) return status_;
  kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + grace;
  while (Clock::now() < deadline) {
    if (!running()) return status_;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  reap(0);
  return status_;
}

}  // namespace vmq::bench
