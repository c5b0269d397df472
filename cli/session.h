// One vmqctl invocation: the global options, the connection to vmqd, and
// where results and failures are printed.
#pragma once

#include <cstdio>
#include <expected>
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

void print_json(const json& document);       // pretty, two-space indent
void print_json_line(const json& document);  // compact, one line (JSON lines)

class Session {
 public:
  explicit Session(GlobalOptions options) : options_(std::move(options)), client_(options_.socket) {}

  bool json_mode() const { return options_.json; }
  const std::string& socket_path() const { return options_.socket; }

  // A method of api/methods.h. A reply that does not decode (a field
  // missing, renamed or of another type) is a failure, never blanks.
  template <typename Method>
  std::expected<api::Answer<typename Method::Reply>, Failure> call(const typename Method::Params& params) {
    auto answer = client_.call_for_answer<Method>(params);
    if (!answer) return std::unexpected(failure_of(answer.error()));
    return std::move(*answer);
  }

  // The agent's result unchanged as one JSON document with --json (it
  // decoded, so it is what this vmqctl understands); otherwise the text
  // `for_people` makes of the typed reply.
  template <typename Reply, typename Text>
  void present(const api::Answer<Reply>& answer, const Text& for_people) const {
    if (json_mode())
      print_json(answer.result);
    else
      std::fputs(for_people(answer.reply).c_str(), stdout);
  }

  // call() then present().
  template <typename Method, typename Text>
  Outcome run(const typename Method::Params& params, const Text& for_people) {
    auto answer = call<Method>(params);
    if (!answer) return std::unexpected(answer.error());
    present(*answer, for_people);
    return {};
  }

 private:
  Failure failure_of(const api::CallError& error) const;

  GlobalOptions options_;
  api::Client client_;
};

// Tells the failure on stderr, and with --json also on stdout as an error
// document; returns the exit status.
int report(const Failure& failure, bool json_mode);

}  // namespace vmq::cli
