// The project's one error policy: fallible calls return vmq::Result<T>.
// Code that touches the OS converts errno once, with system_error(); nothing
// below the process edges throws, prints or exits.
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace vmq {

enum class Errc {
  invalid_argument,  // the request itself is wrong (bad MAC, VLAN out of range)
  not_found,         // unknown queue, filter or uplink
  conflict,          // already in use (duplicate name, MAC/VLAN used by another queue)
  invalid_state,     // the queue's state does not allow the operation
  limit_reached,     // a configured capacity is exhausted
  unsupported,       // the kernel or the device cannot do it
  system,            // a system call failed; sys_errno says which
  protocol,          // a malformed message on the control socket
  timeout,
  permission,        // the caller may not do this
};

std::string_view to_string(Errc code);

struct Error {
  Errc code;
  std::string message;
  int sys_errno = 0;
};

template <typename T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(Errc code, std::string message) {
  return std::unexpected(Error{code, std::move(message)});
}

// "<what>: <strerror(err)>", with err (a positive errno) kept in sys_errno.
Error system_error(int err, std::string_view what);

inline std::unexpected<Error> fail_errno(int err, std::string_view what) {
  return std::unexpected(system_error(err, what));
}

}  // namespace vmq
