// The control client's waits are bounded: an agent that never accepts (its
// listen backlog full, as when vmqd hangs) costs a caller such as the libvirt
// hook at most the client's timeout, and an absent agent fails at once. A
// typed call decodes the reply: one with a field renamed is refused naming
// the field, one with a field added is read, and that field kept.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "api/client.h"
#include "unit/api_samples.h"
#include "unit/service_temp_dir.h"

namespace vmq::api {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

sockaddr_un address_of(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

// A socket that listens with the smallest backlog and never accepts, with
// its backlog filled by connections nobody will take.
class AgentThatNeverAccepts {
 public:
  explicit AgentThatNeverAccepts(const std::string& path) {
    const sockaddr_un addr = address_of(path);
    listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_EQ(::bind(listener_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
    EXPECT_EQ(::listen(listener_, 0), 0);
    for (int i = 0; i < 64; ++i) {
      const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
        waiting_.push_back(fd);
        continue;
      }
      EXPECT_EQ(errno, EAGAIN) << std::strerror(errno);
      ::close(fd);
      full_ = true;
      break;
    }
  }
  ~AgentThatNeverAccepts() {
    for (int fd : waiting_) ::close(fd);
    ::close(listener_);
  }
  bool backlog_full() const { return full_; }

 private:
  int listener_ = -1;
  std::vector<int> waiting_;
  bool full_ = false;
};

// Accepts one connection, reads one request and answers it with `result`.
class AgentThatAnswers {
 public:
  AgentThatAnswers(const std::string& path, json result) {
    const sockaddr_un addr = address_of(path);
    listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_EQ(::bind(listener_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
    EXPECT_EQ(::listen(listener_, 1), 0);
    thread_ = std::thread([this, result = std::move(result)] {
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      std::string line;
      char c = 0;
      while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
      const auto request = decode_request(line);
      const std::string reply = encode(Reply{request ? request->id : 0, result, std::nullopt});
      EXPECT_EQ(::write(fd, reply.data(), reply.size()), static_cast<ssize_t>(reply.size()));
      ::close(fd);
    });
  }
  ~AgentThatAnswers() {
    thread_.join();
    ::close(listener_);
  }

 private:
  int listener_ = -1;
  std::thread thread_;
};

TEST(Client, ATypedCallRefusesAReplyWithARenamedFieldNamingIt) {
  test::TempDir dir;
  const std::string path = dir.path() + "/vmqd.sock";
  json renamed = to_json(test::sample_queue());
  renamed["paused"] = renamed["paused_by_operator"];
  renamed.erase("paused_by_operator");
  AgentThatAnswers agent(path, renamed);
  Client client(path, 5s);
  auto reply = client.call<QueueShow>({"web1"});
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().kind, CallFailure::bad_reply);
  EXPECT_EQ(reply.error().error.code, Errc::protocol);
  EXPECT_EQ(reply.error().error.message, "queue.show reply: paused_by_operator is missing");
}

TEST(Client, ATypedCallReadsAReplyWithAnAddedFieldAndKeepsTheDocument) {
  test::TempDir dir;
  const std::string path = dir.path() + "/vmqd.sock";
  json newer = to_json(test::sample_queue());
  newer["numa_node"] = 1;
  AgentThatAnswers agent(path, newer);
  Client client(path, 5s);
  auto answer = client.call_for_answer<QueueShow>({"web1"});
  ASSERT_TRUE(answer) << answer.error().error.message;
  EXPECT_EQ(answer->reply, test::sample_queue());
  EXPECT_EQ(answer->result, newer) << "the agent's document as it came, for --json";
}

TEST(Client, GivesUpOnAnAgentThatAcceptsNoConnectionAfterItsTimeout) {
  test::TempDir dir;
  const std::string path = dir.path() + "/vmqd.sock";
  AgentThatNeverAccepts agent(path);
  ASSERT_TRUE(agent.backlog_full());

  Client client(path, 300ms);
  const auto start = Clock::now();
  auto reply = client.call("status");
  const auto waited = Clock::now() - start;
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().kind, CallFailure::unreachable);
  EXPECT_EQ(reply.error().error.code, Errc::timeout);
  EXPECT_NE(reply.error().error.message.find("accepted no connection"), std::string::npos)
      << reply.error().error.message;
  EXPECT_GE(waited, 300ms);
  EXPECT_LT(waited, 5s);
}

TEST(Client, AnAbsentAgentFailsAtOnce) {
  test::TempDir dir;
  Client client(dir.path() + "/vmqd.sock", 10s);
  const auto start = Clock::now();
  auto reply = client.call("status");
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().kind, CallFailure::unreachable);
  EXPECT_EQ(reply.error().error.sys_errno, ENOENT);
  EXPECT_LT(Clock::now() - start, 1s);
}

}  // namespace
}  // namespace vmq::api
