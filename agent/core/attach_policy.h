// How vmqd keeps its classifier attached where libxdp's dispatcher is not
// available (the `xdp_attach` key).
#pragma once

#include <string_view>

#include "core/error.h"

namespace vmq {

enum class AttachPolicy {
  automatic,  // the dispatcher if possible, else a bpf_link
  netlink,    // the dispatcher if possible, else a plain netlink attachment
};

// "auto" or "netlink".
Result<AttachPolicy> parse_attach_policy(std::string_view text);

}  // namespace vmq
