// Where a value sits in a JSON document, and how decoding errors name it.
// A Path is a chain of steps kept on the stack while a document is decoded:
// it costs nothing until an error renders it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/error.h"

namespace vmq::api {

// Requests name their parameters as vmqd always has ("parameter 'cpu' must
// be ..."); replies, the state file and migration documents name a value by
// its path from the root ("counters.delivered.packets is missing").
enum class Wording { document, request };

class Path {
 public:
  Path() = default;
  Path(const Path& parent, std::string_view key) : parent_(&parent), key_(key) {}
  Path(const Path& parent, std::size_t index) : parent_(&parent), index_(index), is_index_(true) {}

  // "queues[0].filters[1].vlan"; "the document" for the root.
  std::string to_string() const;
  // How an error message names this value.
  std::string name(Wording wording) const;

 private:
  void append_to(std::string& out) const;

  const Path* parent_ = nullptr;
  std::string_view key_;
  std::size_t index_ = 0;
  bool is_index_ = false;
};

// What can be wrong with a value, worded for its path. Every decoding error
// is Errc::invalid_argument; callers that read replies make it a protocol error.
Error missing_value(const Path& path, Wording wording);
Error wrong_type(const Path& path, Wording wording, std::string_view expected);
Error invalid_value(const Path& path, Wording wording, std::string_view why);
Error unknown_parameter(std::string_view key);

}  // namespace vmq::api
