#include "failure.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "api/protocol.h"

namespace vmq::cli {
namespace {

std::string errno_text(int err) {
  char buf[128];
  return strerror_r(err, buf, sizeof buf);  // GNU: returns the message
}

Failure unreachable_failure(const Error& error, std::string_view socket_path) {
  Failure f{ExitCode::unreachable, "unreachable", {}, {}};
  const std::string why = error.sys_errno != 0 ? errno_text(error.sys_errno) : error.message;
  f.message = fmt::format("cannot reach vmqd at {}: {}", socket_path, why);
  if (error.sys_errno == ENOENT || error.sys_errno == ECONNREFUSED || error.sys_errno == ENOTSOCK)
    f.hint = "is vmqd running? start it with 'systemctl start vmqd' (or 'vmqd --uplink IF'), "
             "or point vmqctl at its socket with --socket or VMQ_SOCKET";
  return f;
}

Failure permission_failure(std::string_view socket_path, std::string_view access) {
  Failure f{ExitCode::refused, "permission", {}, {}};
  f.message = fmt::format("permission denied on vmqd's socket {}{}", socket_path,
                          access.empty() ? std::string() : fmt::format(" ({})", access));
  f.hint = "run vmqctl as root, or as a member of the socket's group (vmqd's socket_group, 'vmq' by default)";
  return f;
}

// The agent answered, but not in the protocol this vmqctl reads: a protocol
// error, with the field the reply lacked or had wrong.
Failure bad_reply_failure(const Error& error) {
  Failure f{ExitCode::refused, "protocol", {}, {}};
  f.message = fmt::format("cannot read vmqd's reply: {}", error.message);
  f.hint = "vmqctl and vmqd may be of different versions: compare 'vmqctl version' with 'vmqctl --version'";
  return f;
}

}  // namespace

Failure usage_failure(std::string message) { return {ExitCode::usage, "usage", std::move(message), {}}; }

Failure invalid_argument(const Error& error) {
  return {ExitCode::usage, std::string(api::error_code(error.code)), error.message, {}};
}

Failure call_failure(const api::CallError& error, std::string_view socket_path, std::string_view access) {
  if (error.kind == api::CallFailure::unreachable) return unreachable_failure(error.error, socket_path);
  if (error.kind == api::CallFailure::bad_reply) return bad_reply_failure(error.error);
  // The client reports a socket we may not connect to as a refusal.
  if (error.error.sys_errno == EACCES || error.error.sys_errno == EPERM) return permission_failure(socket_path, access);
  return {ExitCode::refused, std::string(api::error_code(error.error.code)), error.error.message, {}};
}

nlohmann::json error_document(const Failure& failure) {
  return {{"error", {{"code", failure.code}, {"message", failure.message}}}};
}

std::string error_text(const Failure& failure) {
  std::string text = fmt::format("vmqctl: {}\n", failure.message);
  if (!failure.hint.empty()) text += fmt::format("{}\n", failure.hint);
  return text;
}

}  // namespace vmq::cli
