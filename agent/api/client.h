// A blocking client of vmqd's control socket, for vmqctl, the libvirt hook and
// the tests. Connecting and every reply are bounded by the timeout.
#pragma once

#include <chrono>
#include <string>

#include "api/protocol.h"
#include "core/error.h"

namespace vmq::api {

// Why a call failed: the agent could not be reached, or it refused.
enum class CallFailure { unreachable, refused };

struct CallError {
  CallFailure kind;
  Error error;
};

class Client {
 public:
  explicit Client(std::string socket_path, std::chrono::milliseconds timeout = std::chrono::seconds(30))
      : socket_path_(std::move(socket_path)), timeout_(timeout) {}
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const std::string& socket_path() const { return socket_path_; }
  // Connects on first use; one request at a time.
  std::expected<json, CallError> call(const std::string& method, json params = json::object());

 private:
  Result<void> connect();
  Result<void> send_all(const std::string& data);
  Result<std::string> read_line();

  std::string socket_path_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  std::uint64_t next_id_ = 1;
  std::string buffer_;
};

}  // namespace vmq::api
