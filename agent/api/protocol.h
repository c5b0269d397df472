// vmq's control protocol: one JSON object per line over a Unix stream
// socket. A request names a method; the reply carries the same id and either
// a result or an error (a machine-readable code and a sentence for people).
//
//   -> {"vmq":1,"id":7,"method":"queue.show","params":{"queue":"web1"}}
//   <- {"vmq":1,"id":7,"result":{...}}
//   <- {"vmq":1,"id":7,"error":{"code":"not_found","message":"no queue named 'web1'"}}
//
// "vmq" is the protocol version; an agent refuses a version it does not speak.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace vmq::api {

using json = nlohmann::json;

inline constexpr int kProtocolVersion = 1;
inline constexpr std::size_t kMaxMessageBytes = 1 << 20;
inline constexpr const char* kDefaultSocketPath = "/run/vmq/vmqd.sock";

struct Request {
  std::uint64_t id = 0;
  std::string method;
  json params = json::object();
};

struct Reply {
  std::uint64_t id = 0;
  json result;                   // when ok
  std::optional<Error> error;    // when refused
};

// One line, newline included.
std::string encode(const Request& request);
std::string encode(const Reply& reply);

// A malformed request is an Errc::protocol error; its id, when it could be
// read, is in `id` so that the reply can carry it.
Result<Request> decode_request(std::string_view line, std::uint64_t* id = nullptr);
Result<Reply> decode_reply(std::string_view line);

std::string_view error_code(Errc code);
Errc errc_from_code(std::string_view code);

}  // namespace vmq::api
