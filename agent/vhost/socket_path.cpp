#include "vhost/socket_path.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/unique_fd.h"

namespace vmq::vhost {
namespace {

// Whether a process accepts connections on the socket at `path`.
bool someone_listens(const std::string& path) {
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), std::min(path.size(), sizeof address.sun_path - 1));
  return connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
}

}  // namespace

Result<void> check_listen_path(const std::string& path) {
  const std::string directory = path.substr(0, std::max<std::size_t>(path.rfind('/'), 1));
  struct stat st {};
  if (stat(directory.c_str(), &st) != 0)
    return fail_errno(errno, fmt::format("vhost-user socket {}: directory {}", path, directory));
  if (!S_ISDIR(st.st_mode))
    return fail(Errc::invalid_argument, fmt::format("vhost-user socket {}: {} is not a directory", path, directory));
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return fail_errno(errno, fmt::format("vhost-user socket {}", path));
  }
  if (!S_ISSOCK(st.st_mode))
    return fail(Errc::conflict, fmt::format("vhost-user socket {}: the path exists and is not a socket", path));
  if (someone_listens(path))
    return fail(Errc::conflict, fmt::format("vhost-user socket {}: another process listens on it", path));
  return {};
}

}  // namespace vmq::vhost
