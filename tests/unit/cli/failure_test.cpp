#include <gtest/gtest.h>

#include <cerrno>

#include "failure.h"

namespace vmq::cli {
namespace {

api::CallError unreachable(int err, std::string message = "connecting") {
  return {api::CallFailure::unreachable, Error{Errc::system, std::move(message), err}};
}

TEST(CallFailure, MissingSocketSaysWhereAndHowToStartTheAgent) {
  const Failure f = call_failure(unreachable(ENOENT), "/run/vmq/vmqd.sock");
  EXPECT_EQ(f.exit, ExitCode::unreachable);
  EXPECT_EQ(f.code, "unreachable");
  EXPECT_EQ(f.message, "cannot reach vmqd at /run/vmq/vmqd.sock: No such file or directory");
  EXPECT_NE(f.hint.find("systemctl start vmqd"), std::string::npos);
  EXPECT_NE(f.hint.find("VMQ_SOCKET"), std::string::npos);
}

TEST(CallFailure, NoAnswerIsUnreachableWithTheClientsReason) {
  const Failure f = call_failure(unreachable(0, "no reply from the agent within 30 s"), "/s");
  EXPECT_EQ(f.exit, ExitCode::unreachable);
  EXPECT_EQ(f.message, "cannot reach vmqd at /s: no reply from the agent within 30 s");
  EXPECT_TRUE(f.hint.empty());
}

TEST(CallFailure, PermissionDeniedIsARefusal) {
  const api::CallError denied{api::CallFailure::refused, Error{Errc::system, "connecting: Permission denied", EACCES}};
  const Failure f = call_failure(denied, "/run/vmq/vmqd.sock", "owner root, group vmq, mode 0660");
  EXPECT_EQ(f.exit, ExitCode::refused);
  EXPECT_EQ(f.code, "permission");
  EXPECT_EQ(f.message, "permission denied on vmqd's socket /run/vmq/vmqd.sock (owner root, group vmq, mode 0660)");
  EXPECT_FALSE(f.hint.empty());
}

TEST(CallFailure, AgentRefusalKeepsItsCodeAndWords) {
  const std::string words = "queue web1: MAC 52:54:00:aa:bb:cc VLAN 100 is already used by queue db2 (filter 7)";
  const Failure f = call_failure({api::CallFailure::refused, Error{Errc::conflict, words}}, "/s");
  EXPECT_EQ(f.exit, ExitCode::refused);
  EXPECT_EQ(f.code, "conflict");
  EXPECT_EQ(f.message, words);
  EXPECT_EQ(error_text(f), "vmqctl: " + words + "\n");
}

TEST(CallFailure, AReplyThatDoesNotDecodeIsAProtocolErrorNamingTheField) {
  const Error unreadable{Errc::protocol, "queue.show reply: counters.delivered.packets is missing"};
  const Failure f = call_failure({api::CallFailure::bad_reply, unreadable}, "/s");
  EXPECT_EQ(f.exit, ExitCode::refused);
  EXPECT_EQ(f.code, "protocol");
  EXPECT_EQ(f.message, "cannot read vmqd's reply: queue.show reply: counters.delivered.packets is missing");
  EXPECT_NE(f.hint.find("versions"), std::string::npos);
}

TEST(InvalidArgument, IsAUsageErrorWithTheAgentsCode) {
  const Failure f = invalid_argument(Error{Errc::invalid_argument, "--vlan: VLAN 5000 out of range 1..4094"});
  EXPECT_EQ(f.exit, ExitCode::usage);
  EXPECT_EQ(f.code, "invalid_argument");
}

TEST(ErrorDocument, HasCodeAndMessage) {
  const Failure f = usage_failure("unknown command 'bogus'");
  EXPECT_EQ(f.exit, ExitCode::usage);
  EXPECT_EQ(error_document(f),
            nlohmann::json::parse(R"({"error": {"code": "usage", "message": "unknown command 'bogus'"}})"));
}

TEST(ErrorText, PutsTheHintOnItsOwnLine) {
  Failure f = usage_failure("a command is required: add, list, del");
  f.hint = "run 'vmqctl filter --help' for usage";
  EXPECT_EQ(error_text(f), "vmqctl: a command is required: add, list, del\nrun 'vmqctl filter --help' for usage\n");
}

TEST(ExitCodes, AreTheDocumentedNumbers) {
  EXPECT_EQ(static_cast<int>(ExitCode::ok), 0);
  EXPECT_EQ(static_cast<int>(ExitCode::refused), 1);
  EXPECT_EQ(static_cast<int>(ExitCode::usage), 2);
  EXPECT_EQ(static_cast<int>(ExitCode::unreachable), 3);
}

}  // namespace
}  // namespace vmq::cli
