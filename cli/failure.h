// Why a vmqctl invocation failed, its exit status, and how it is told: a
// sentence (and maybe a hint) on stderr, and with --json an error document
// on stdout.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/client.h"
#include "base/error.h"

namespace vmq::cli {

// The exit statuses scripts may rely on (documented in --help and vmqctl(8)).
enum class ExitCode : int {
  ok = 0,
  refused = 1,      // vmqd refused the request, its socket refused us (permission), or its reply is unreadable
  usage = 2,        // the command line is wrong; nothing was sent
  unreachable = 3,  // no vmqd answered on the socket
};

struct Failure {
  ExitCode exit = ExitCode::refused;
  std::string code;     // the agent's error code ("not_found", ...), or "usage" / "unreachable"
  std::string message;  // one sentence, without the "vmqctl: " prefix
  std::string hint;     // what to do about it; may be empty
};

// A command line CLI11 could not parse.
Failure usage_failure(std::string message);
// A value vmqctl checked itself (args.h): the same code the agent would use.
Failure invalid_argument(const Error& error);
// `access` describes the socket's owner and mode for a permission failure.
Failure call_failure(const api::CallError& error, std::string_view socket_path, std::string_view access = {});

// {"error": {"code": "...", "message": "..."}}
nlohmann::json error_document(const Failure& failure);
// "vmqctl: <message>\n" and the hint on a line of its own.
std::string error_text(const Failure& failure);

}  // namespace vmq::cli
