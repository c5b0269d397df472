// What `vmqctl trace` prints for people: where the frame goes, and why.
#pragma once

#include <string>

#include "api/methods.h"

namespace vmq::cli {

std::string trace_text(const api::TraceReply& trace);

}  // namespace vmq::cli
