// The NDIS VM queue state machine (vmq-spec F3): every transition of the
// table, nothing else. A blank cell of the table is std::nullopt.
#pragma once

#include <optional>
#include <string_view>

namespace vmq {

enum class QueueState { undefined, allocated, set, running, paused, dma_stopped, freeing };

enum class QueueEvent {
  allocate,             // OID_RECEIVE_FILTER_ALLOCATE_QUEUE
  set_filter,           // OID_RECEIVE_FILTER_SET_FILTER
  clear_filter,         // OID_RECEIVE_FILTER_CLEAR_FILTER, other filters remain
  clear_last_filter,    // OID_RECEIVE_FILTER_CLEAR_FILTER of the only filter
  allocation_complete,  // OID_RECEIVE_FILTER_QUEUE_ALLOCATION_COMPLETE
  free,                 // OID_RECEIVE_FILTER_FREE_QUEUE
  dma_stopped,          // DMA stopped and NDIS_STATUS_RECEIVE_QUEUE_STATE indicated
  resources_freed,      // every frame returned, buffers released
};

std::optional<QueueState> next_state(QueueState from, QueueEvent event);

// Parameters may be read and changed (and filters enumerated) in these states.
bool parameters_accessible(QueueState state);

std::string_view to_string(QueueState state);
std::string_view to_string(QueueEvent event);

}  // namespace vmq
