// Moved to base/unique_fd.h (vmq::UniqueFd). Kept only for
// service/state_store.cpp, which is being rewritten on another branch; remove
// once it includes base/unique_fd.h.
#pragma once

#include "base/unique_fd.h"

namespace vmq::os {

using vmq::UniqueFd;

}  // namespace vmq::os
