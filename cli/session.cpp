#include "session.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>

#include <cstdio>

#include <fmt/format.h>

namespace vmq::cli {
namespace {

// "owner root, group vmq, mode 0660": what an operator denied access needs.
std::string socket_access(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  const passwd* owner = ::getpwuid(st.st_uid);
  const group* grp = ::getgrgid(st.st_gid);
  return fmt::format("owner {}, group {}, mode {:04o}", owner ? owner->pw_name : std::to_string(st.st_uid),
                     grp ? grp->gr_name : std::to_string(st.st_gid), st.st_mode & 07777);
}

std::string dump(const json& document, int indent) {
  // vmqd already replaces invalid UTF-8; never abort on it anyway.
  return document.dump(indent, ' ', false, json::error_handler_t::replace);
}

}  // namespace

Failure Session::failure_of(const api::CallError& error) const {
  return call_failure(error, options_.socket, socket_access(options_.socket));
}

void print_json(const json& document) { std::fputs((dump(document, 2) + "\n").c_str(), stdout); }

void print_json_line(const json& document) { std::fputs((dump(document, -1) + "\n").c_str(), stdout); }

int report(const Failure& failure, bool json_mode) {
  std::fflush(stdout);
  std::fputs(error_text(failure).c_str(), stderr);
  if (json_mode) print_json(error_document(failure));
  return static_cast<int>(failure.exit);
}

}  // namespace vmq::cli
