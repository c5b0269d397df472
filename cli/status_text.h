// What vmqctl prints for people about the agent: status, caps, versions.
#pragma once

#include <string>
#include <vector>

#include "api/methods.h"

namespace vmq::cli {

std::string uplinks_text(const std::vector<api::Uplink>& uplinks);
std::string status_text(const api::StatusReply& status);
// Each allowed CPU's load over the last rebalancing round, and the rebalancer.
std::string cpus_text(const api::StatusReply& status);
std::string caps_text(const api::CapsReply& caps);

}  // namespace vmq::cli
