// Every cell of the NDIS state table (vmq-spec F3), written out here
// independently of the implementation: allowed cells give their next state,
// blank cells are refused.
#include <gtest/gtest.h>

#include <map>
#include <optional>

#include "core/queue_state.h"

namespace vmq {
namespace {

using S = QueueState;
using E = QueueEvent;

const std::map<std::pair<E, S>, S> kTable = {
    {{E::allocate, S::undefined}, S::allocated},
    {{E::set_filter, S::allocated}, S::set},
    {{E::set_filter, S::set}, S::set},
    {{E::set_filter, S::running}, S::running},
    {{E::set_filter, S::paused}, S::running},
    {{E::clear_filter, S::set}, S::set},
    {{E::clear_filter, S::running}, S::running},
    {{E::clear_last_filter, S::set}, S::allocated},
    {{E::clear_last_filter, S::running}, S::paused},
    {{E::allocation_complete, S::allocated}, S::paused},
    {{E::allocation_complete, S::set}, S::running},
    {{E::free, S::allocated}, S::dma_stopped},
    {{E::free, S::paused}, S::dma_stopped},
    {{E::dma_stopped, S::dma_stopped}, S::freeing},
    {{E::resources_freed, S::freeing}, S::undefined},
};

TEST(QueueStateMachine, EveryCellOfTheNdisTable) {
  const S states[] = {S::undefined, S::allocated, S::set, S::running, S::paused, S::dma_stopped, S::freeing};
  const E events[] = {E::allocate, E::set_filter, E::clear_filter, E::clear_last_filter, E::allocation_complete,
                      E::free, E::dma_stopped, E::resources_freed};
  int allowed = 0;
  for (E e : events) {
    for (S s : states) {
      auto it = kTable.find({e, s});
      const auto expected = it == kTable.end() ? std::nullopt : std::optional<S>(it->second);
      EXPECT_EQ(next_state(s, e), expected) << to_string(e) << " in state " << to_string(s);
      allowed += expected.has_value();
    }
  }
  EXPECT_EQ(allowed, 15);
}

TEST(QueueStateMachine, ParametersAreAccessibleUntilTheQueueIsFreed) {
  EXPECT_TRUE(parameters_accessible(S::allocated));
  EXPECT_TRUE(parameters_accessible(S::set));
  EXPECT_TRUE(parameters_accessible(S::running));
  EXPECT_TRUE(parameters_accessible(S::paused));
  EXPECT_FALSE(parameters_accessible(S::dma_stopped));
  EXPECT_FALSE(parameters_accessible(S::freeing));
  EXPECT_FALSE(parameters_accessible(S::undefined));
}

}  // namespace
}  // namespace vmq
