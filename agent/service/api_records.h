// Between the agent's own records (core) and the control protocol's
// (agent/api): the one place where a queue or a filter changes hands.
#pragma once

#include "api/records.h"
#include "core/filter.h"
#include "core/queue.h"

namespace vmq::service {

api::FilterRule rule_of(const FilterMatch& match);
// The rule was checked when it was decoded (api::FilterRule's rules are FilterMatch's).
FilterMatch match_of(const api::FilterRule& rule);
api::QueueSettings settings_of(const Queue& queue);

}  // namespace vmq::service
