// MacAddress lives in agent/base (shared with the control API); core code
// keeps including it by its old name.
#pragma once

#include "base/mac_address.h"
