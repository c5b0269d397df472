// The control client's waits are bounded: an agent that never accepts (its
// listen backlog full, as when vmqd hangs) costs a caller such as the libvirt
// hook at most the client's timeout, and an absent agent fails at once.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "api/client.h"
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
