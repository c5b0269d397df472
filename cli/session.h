// One vmqctl invocation: the global options, the connection to vmqd, and
// where results and failures are printed.
#pragma once

#include <expected>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/client.h"
#include "api/protocol.h"
#include "failure.h"

namespace vmq::cli {

using json = nlohmann::json;

struct GlobalOptions {
  std::string socket = api::kDefaultSocketPath;
  bool json = false;
};

// What a command returns: nothing to add on success, or why it failed.
using Outcome = std::expected<void, Failure>;

class Session {
 public:
  explicit Session(GlobalOptions options) : options_(std::move(options)), client_(options_.socket) {}

  bool json_mode() const { return options_.json; }
  const std::string& socket_path() const { return options_.socket; }

  std::expected<json, Failure> call(const std::string& method, json params = json::object());

  // The API result unchanged as one JSON document with --json; otherwise
  // the text `for_people` makes of it.
  void present(const json& result, const std::function<std::string(const json&)>& for_people) const;

 private:
  GlobalOptions options_;
  api::Client client_;
};

void print_json(const json& document);       // pretty, two-space indent
void print_json_line(const json& document);  // compact, one line (JSON lines)

// Tells the failure on stderr, and with --json also on stdout as an error
// document; returns the exit status.
int report(const Failure& failure, bool json_mode);

}  // namespace vmq::cli
