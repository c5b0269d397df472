#include "api/protocol.h"

#include <array>

#include <fmt/format.h>

namespace vmq::api {
namespace {

constexpr std::array kCodes = {
    std::pair{Errc::invalid_argument, "invalid_argument"}, std::pair{Errc::not_found, "not_found"},
    std::pair{Errc::conflict, "conflict"},                 std::pair{Errc::invalid_state, "invalid_state"},
    std::pair{Errc::limit_reached, "limit_reached"},       std::pair{Errc::unsupported, "unsupported"},
    std::pair{Errc::system, "system"},                     std::pair{Errc::protocol, "protocol"},
    std::pair{Errc::timeout, "timeout"},                   std::pair{Errc::permission, "permission"},
};

Result<json> parse_object(std::string_view line, std::string_view what) {
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail(Errc::protocol, fmt::format("{} is not valid JSON", what));
  if (!j.is_object()) return fail(Errc::protocol, fmt::format("{} must be a JSON object", what));
  return j;
}

Result<void> check_version(const json& j) {
  auto it = j.find("vmq");
  if (it == j.end() || !it->is_number_integer())
    return fail(Errc::protocol, "missing protocol version (\"vmq\": 1)");
  if (it->get<long long>() != kProtocolVersion)
    return fail(Errc::protocol, fmt::format("protocol version {} is not supported (this side speaks {})",
                                            it->dump(), kProtocolVersion));
  return {};
}

}  // namespace

std::string_view error_code(Errc code) {
  for (auto [c, name] : kCodes)
    if (c == code) return name;
  return "system";
}

Errc errc_from_code(std::string_view code) {
  for (auto [c, name] : kCodes)
    if (name == code) return c;
  return Errc::system;
}

std::string encode(const Request& request) {
  json j{{"vmq", kProtocolVersion}, {"id", request.id}, {"method", request.method}, {"params", request.params}};
  // Parameters may carry operator text that is not UTF-8: never fail on it.
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string encode(const Reply& reply) {
  json j{{"vmq", kProtocolVersion}, {"id", reply.id}};
  if (reply.error)
    j["error"] = {{"code", error_code(reply.error->code)}, {"message", reply.error->message}};
  else
    j["result"] = reply.result;
  // Replies may echo operator-supplied text: never fail on invalid UTF-8.
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<Request> decode_request(std::string_view line, std::uint64_t* id) {
  if (line.size() > kMaxMessageBytes)
    return fail(Errc::protocol, fmt::format("request longer than {} bytes", kMaxMessageBytes));
  auto j = parse_object(line, "the request");
  if (!j) return std::unexpected(j.error());
  Request request;
  if (auto it = j->find("id"); it != j->end()) {
    if (!it->is_number_unsigned()) return fail(Errc::protocol, "\"id\" must be a non-negative integer");
    request.id = it->get<std::uint64_t>();
    if (id) *id = request.id;
  }
  if (auto ok = check_version(*j); !ok) return std::unexpected(ok.error());
  auto method = j->find("method");
  if (method == j->end() || !method->is_string()) return fail(Errc::protocol, "\"method\" must be a string");
  request.method = method->get<std::string>();
  if (auto params = j->find("params"); params != j->end()) {
    if (!params->is_object()) return fail(Errc::protocol, "\"params\" must be a JSON object");
    request.params = *params;
  }
  return request;
}

Result<Reply> decode_reply(std::string_view line) {
  auto j = parse_object(line, "the agent's reply");
  if (!j) return std::unexpected(j.error());
  if (auto ok = check_version(*j); !ok) return std::unexpected(ok.error());
  Reply reply;
  if (auto it = j->find("id"); it != j->end() && it->is_number_unsigned()) reply.id = it->get<std::uint64_t>();
  if (auto err = j->find("error"); err != j->end()) {
    if (!err->is_object() || !err->contains("code") || !err->contains("message") || !(*err)["code"].is_string() ||
        !(*err)["message"].is_string())
      return fail(Errc::protocol, "the agent's error reply is malformed");
    reply.error = Error{errc_from_code((*err)["code"].get<std::string>()), (*err)["message"].get<std::string>()};
    return reply;
  }
  auto result = j->find("result");
  if (result == j->end()) return fail(Errc::protocol, "the agent's reply has neither result nor error");
  reply.result = *result;
  return reply;
}

}  // namespace vmq::api
