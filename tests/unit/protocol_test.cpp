// The control protocol's encoding: one JSON object per line, version checks,
// malformed requests refused as Errc::protocol with the id when readable.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "api/protocol.h"

namespace vmq::api {
namespace {

constexpr std::uint64_t kUntouched = 0xdeadbeef;

// A line as the server hands it to decode_request: without its newline.
std::string strip_newline(std::string line) {
  if (!line.empty() && line.back() == '\n') line.pop_back();
  return line;
}

TEST(Protocol, EncodedRequestIsOneLineThatDecodesBack) {
  const Request request{7, "queue.show", json{{"queue", "web1"}, {"detail", true}}};
  const std::string line = encode(request);
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one request, one line: " << line;
  const json on_wire = json::parse(line);
  EXPECT_EQ(on_wire.at("vmq"), kProtocolVersion);

  std::uint64_t id = kUntouched;
  auto decoded = decode_request(strip_newline(line), &id);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->id, 7u);
  EXPECT_EQ(id, 7u);
  EXPECT_EQ(decoded->method, "queue.show");
  EXPECT_EQ(decoded->params, request.params);

  // The newline itself is accepted too.
  auto with_newline = decode_request(line);
  ASSERT_TRUE(with_newline) << with_newline.error().message;
  EXPECT_EQ(with_newline->method, "queue.show");
}

TEST(Protocol, NewlinesInsideStringsAreEscapedSoTheMessageStaysOneLine) {
  const Request request{1, "queue.set", json{{"queue", "a\nb"}, {"vm", "x\r\ny"}}};
  const std::string line = encode(request);
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  auto decoded = decode_request(strip_newline(line));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->params.at("queue"), "a\nb");

  Reply reply{2, json{{"text", "one\ntwo"}}, std::nullopt};
  const std::string reply_line = encode(reply);
  EXPECT_EQ(reply_line.find('\n'), reply_line.size() - 1) << reply_line;
}

TEST(Protocol, LargestIdRoundTrips) {
  const Request request{UINT64_MAX, "status", json::object()};
  auto decoded = decode_request(strip_newline(encode(request)));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->id, UINT64_MAX);
}

TEST(Protocol, IdAndParamsAreOptional) {
  auto decoded = decode_request(R"({"vmq":1,"method":"status"})");
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->id, 0u);
  EXPECT_EQ(decoded->method, "status");
  EXPECT_TRUE(decoded->params.is_object());
  EXPECT_TRUE(decoded->params.empty());
}

TEST(Protocol, ResultReplyRoundTrips) {
  const Reply reply{42, json{{"queues", json::array({1, 2})}, {"ok", true}}, std::nullopt};
  const std::string line = encode(reply);
  EXPECT_EQ(line.back(), '\n');
  auto decoded = decode_reply(strip_newline(line));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->id, 42u);
  EXPECT_FALSE(decoded->error);
  EXPECT_EQ(decoded->result, reply.result);
  EXPECT_FALSE(json::parse(line).contains("error"));
}

TEST(Protocol, NullResultIsStillAResult) {
  auto decoded = decode_reply(R"({"vmq":1,"id":3,"result":null})");
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_FALSE(decoded->error);
  EXPECT_TRUE(decoded->result.is_null());
}

TEST(Protocol, EveryErrorCodeRoundTripsThroughAnErrorReply) {
  const Errc codes[] = {Errc::invalid_argument, Errc::not_found,   Errc::conflict, Errc::invalid_state,
                        Errc::limit_reached,    Errc::unsupported, Errc::system,   Errc::protocol,
                        Errc::timeout,          Errc::permission};
  for (Errc code : codes) {
    EXPECT_EQ(error_code(code), to_string(code));
    EXPECT_EQ(errc_from_code(error_code(code)), code);
    const Reply reply{9, json(), Error{code, "why: " + std::string(to_string(code))}};
    const std::string line = encode(reply);
    const json on_wire = json::parse(line);
    EXPECT_EQ(on_wire.at("error").at("code"), to_string(code));
    EXPECT_FALSE(on_wire.contains("result")) << line;
    auto decoded = decode_reply(strip_newline(line));
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(decoded->id, 9u);
    ASSERT_TRUE(decoded->error) << line;
    EXPECT_EQ(decoded->error->code, code);
    EXPECT_EQ(decoded->error->message, "why: " + std::string(to_string(code)));
  }
}

TEST(Protocol, UnknownErrorCodeFromANewerAgentIsASystemError) {
  EXPECT_EQ(errc_from_code("quota_exceeded"), Errc::system);
  auto decoded = decode_reply(R"({"vmq":1,"id":1,"error":{"code":"quota_exceeded","message":"m"}})");
  ASSERT_TRUE(decoded) << decoded.error().message;
  ASSERT_TRUE(decoded->error);
  EXPECT_EQ(decoded->error->code, Errc::system);
  EXPECT_EQ(decoded->error->message, "m");
}

struct Malformed {
  const char* line;
  const char* message;               // a substring of the error
  std::optional<std::uint64_t> id;   // the id the reply can carry, if readable
};

TEST(Protocol, MalformedRequestsAreProtocolErrorsWithTheIdWhenReadable) {
  const Malformed cases[] = {
      {"this is not json", "the request is not valid JSON", std::nullopt},
      {"", "the request is not valid JSON", std::nullopt},
      {R"({"vmq":1,"id":1,"method":"status")", "the request is not valid JSON", std::nullopt},
      {R"([{"vmq":1,"id":1,"method":"status"}])", "the request must be a JSON object", std::nullopt},
      {R"("status")", "the request must be a JSON object", std::nullopt},
      {"12", "the request must be a JSON object", std::nullopt},
      {R"({"id":3,"method":"status"})", "missing protocol version (\"vmq\": 1)", 3},
      {R"({"vmq":"1","id":3,"method":"status"})", "missing protocol version (\"vmq\": 1)", 3},
      {R"({"vmq":null,"id":3,"method":"status"})", "missing protocol version", 3},
      {R"({"vmq":2,"id":4,"method":"status"})", "protocol version 2 is not supported (this side speaks 1)", 4},
      {R"({"vmq":0,"id":4,"method":"status"})", "protocol version 0 is not supported", 4},
      {R"({"vmq":-1,"id":4,"method":"status"})", "protocol version -1 is not supported", 4},
      {R"({"vmq":1,"id":5})", "\"method\" must be a string", 5},
      {R"({"vmq":1,"id":5,"method":7})", "\"method\" must be a string", 5},
      {R"({"vmq":1,"id":5,"method":null})", "\"method\" must be a string", 5},
      {R"({"vmq":1,"id":6,"method":"status","params":[]})", "\"params\" must be a JSON object", 6},
      {R"({"vmq":1,"id":6,"method":"status","params":"queue=web1"})", "\"params\" must be a JSON object", 6},
      {R"({"vmq":1,"id":6,"method":"status","params":null})", "\"params\" must be a JSON object", 6},
      {R"({"vmq":1,"id":-1,"method":"status"})", "\"id\" must be a non-negative integer", std::nullopt},
      {R"({"vmq":1,"id":"7","method":"status"})", "\"id\" must be a non-negative integer", std::nullopt},
      {R"({"vmq":1,"id":1.5,"method":"status"})", "\"id\" must be a non-negative integer", std::nullopt},
      {R"({"vmq":1,"id":null,"method":"status"})", "\"id\" must be a non-negative integer", std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.line);
    std::uint64_t id = kUntouched;
    auto request = decode_request(c.line, &id);
    ASSERT_FALSE(request) << "accepted: method " << request->method;
    EXPECT_EQ(request.error().code, Errc::protocol);
    EXPECT_NE(request.error().message.find(c.message), std::string::npos) << request.error().message;
    EXPECT_EQ(id, c.id.value_or(kUntouched));
  }
}

TEST(Protocol, WithoutAnIdPointerMalformedRequestsAreStillRefused) {
  auto request = decode_request(R"({"vmq":2,"id":4,"method":"status"})");
  ASSERT_FALSE(request);
  EXPECT_EQ(request.error().code, Errc::protocol);
}

TEST(Protocol, OversizedRequestIsRefusedBeforeParsing) {
  // Valid JSON padded with spaces: only its size is wrong.
  const std::string head = R"({"vmq":1,"id":8,"method":"status"})";
  std::string line = head + std::string(kMaxMessageBytes + 1 - head.size(), ' ');
  ASSERT_EQ(line.size(), kMaxMessageBytes + 1);
  std::uint64_t id = kUntouched;
  auto request = decode_request(line, &id);
  ASSERT_FALSE(request);
  EXPECT_EQ(request.error().code, Errc::protocol);
  EXPECT_EQ(request.error().message, "request longer than 1048576 bytes");
  EXPECT_EQ(id, kUntouched);

  line.pop_back();  // exactly the limit: served
  ASSERT_EQ(line.size(), kMaxMessageBytes);
  auto at_limit = decode_request(line, &id);
  ASSERT_TRUE(at_limit) << at_limit.error().message;
  EXPECT_EQ(at_limit->id, 8u);
}

TEST(Protocol, ReplyWithInvalidUtf8StillEncodesAsValidJson) {
  const std::string bad = "no queue named '\xff\xfe" "web'";
  const Reply refusal{5, json(), Error{Errc::not_found, bad}};
  std::string line;
  ASSERT_NO_THROW(line = encode(refusal));
  EXPECT_EQ(line.back(), '\n');
  auto decoded = decode_reply(strip_newline(line));
  ASSERT_TRUE(decoded) << decoded.error().message;
  ASSERT_TRUE(decoded->error);
  EXPECT_EQ(decoded->error->code, Errc::not_found);
  // Each invalid byte became U+FFFD; the valid text around it is kept.
  EXPECT_EQ(decoded->error->message, "no queue named '\xef\xbf\xbd\xef\xbf\xbdweb'");

  const Reply result{6, json{{"vm", "\xc3("}}, std::nullopt};
  ASSERT_NO_THROW(line = encode(result));
  auto decoded_result = decode_reply(strip_newline(line));
  ASSERT_TRUE(decoded_result) << decoded_result.error().message;
  EXPECT_EQ(decoded_result->result.at("vm"), "\xef\xbf\xbd(");
}

TEST(Protocol, RequestWithInvalidUtf8DoesNotThrow) {
  // vmqctl passes operator-typed names (argv bytes) straight into params.
  const Request request{1, "queue.show", json{{"queue", "web\xff"}}};
  std::string line;
  ASSERT_NO_THROW(line = encode(request));
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  auto decoded = decode_request(strip_newline(line));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->method, "queue.show");
  // The invalid byte became U+FFFD, as in replies.
  EXPECT_EQ(decoded->params.at("queue"), "web\xef\xbf\xbd");
}

TEST(Protocol, DecodeReplyRefusesWhatIsNotAReply) {
  struct Case {
    const char* line;
    const char* message;
  };
  const Case cases[] = {
      {"garbage", "the agent's reply is not valid JSON"},
      {"[]", "the agent's reply must be a JSON object"},
      {R"({"id":1,"result":{}})", "missing protocol version"},
      {R"({"vmq":2,"id":1,"result":{}})", "protocol version 2 is not supported"},
      {R"({"vmq":1,"id":1})", "the agent's reply has neither result nor error"},
      {R"({"vmq":1,"id":1,"error":"boom"})", "the agent's error reply is malformed"},
      {R"({"vmq":1,"id":1,"error":{"code":"not_found"}})", "the agent's error reply is malformed"},
      {R"({"vmq":1,"id":1,"error":{"message":"m"}})", "the agent's error reply is malformed"},
      {R"({"vmq":1,"id":1,"error":{"code":7,"message":"m"}})", "the agent's error reply is malformed"},
      {R"({"vmq":1,"id":1,"error":{"code":"system","message":null}})", "the agent's error reply is malformed"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.line);
    auto reply = decode_reply(c.line);
    ASSERT_FALSE(reply);
    EXPECT_EQ(reply.error().code, Errc::protocol);
    EXPECT_NE(reply.error().message.find(c.message), std::string::npos) << reply.error().message;
  }
}

TEST(Protocol, ErrorWinsOverResultInAReply) {
  auto reply = decode_reply(R"({"vmq":1,"id":2,"result":{"x":1},"error":{"code":"conflict","message":"m"}})");
  ASSERT_TRUE(reply) << reply.error().message;
  ASSERT_TRUE(reply->error);
  EXPECT_EQ(reply->error->code, Errc::conflict);
}

TEST(Protocol, ReplyWithoutAReadableIdHasIdZero) {
  auto reply = decode_reply(R"({"vmq":1,"id":"x","result":{}})");
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(reply->id, 0u);
}

}  // namespace
}  // namespace vmq::api
