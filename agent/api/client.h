// A blocking client of vmqd's control socket, for vmqctl, the libvirt hook and
// the tests. Connecting and every reply are bounded by the timeout.
#pragma once

#include <chrono>
#include <string>

#include "api/codec.h"
#include "api/methods.h"
#include "api/protocol.h"
#include "base/error.h"

namespace vmq::api {

// Why a call failed: the agent could not be reached, it refused, or its
// result is not what this side of the protocol reads (a field missing,
// renamed or of another type: the agent is of another version, or broken).
enum class CallFailure { unreachable, refused, bad_reply };

struct CallError {
  CallFailure kind;
  Error error;
};

// A typed reply and the agent's result document it was decoded from (which
// `vmqctl --json` prints as it came, fields this side does not know included).
template <typename Reply>
struct Answer {
  Reply reply;
  json result;
};

// Reads a method's result; errors say which method's reply, e.g.
// "queue.show reply: counters.delivered.packets is missing".
template <typename Method>
Result<typename Method::Reply> decode_result(const json& result) {
  auto reply = from_json<typename Method::Reply>(result);
  if (!reply) return fail(Errc::protocol, fmt::format("{} reply: {}", Method::name, reply.error().message));
  return reply;
}

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

  // A method of api/methods.h: its parameters encoded, its result decoded.
  template <typename Method>
  std::expected<typename Method::Reply, CallError> call(const typename Method::Params& params) {
    auto answer = call_for_answer<Method>(params);
    if (!answer) return std::unexpected(answer.error());
    return std::move(answer->reply);
  }
  template <typename Method>
  std::expected<Answer<typename Method::Reply>, CallError> call_for_answer(const typename Method::Params& params) {
    auto result = call(std::string(Method::name), to_json(params));
    if (!result) return std::unexpected(result.error());
    auto reply = decode_result<Method>(*result);
    if (!reply) return std::unexpected(CallError{CallFailure::bad_reply, reply.error()});
    return Answer<typename Method::Reply>{std::move(*reply), std::move(*result)};
  }

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
