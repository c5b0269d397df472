// Core's enums and the classifier's numbers (vmq/abi.h): the one place that
// maps between them, so core never speaks the BPF maps' types.
#pragma once

#include <cstdint>
#include <optional>

#include "core/default_reason.h"
#include "core/queue.h"
#include "core/queue_state.h"
#include "vmq/abi.h"

namespace vmq::os {

static_assert(kDefaultReasonCount == VMQ_DEFAULT_REASON_COUNT, "core names every reason of the classifier");
static_assert(index_of(DefaultReason::no_filter) == VMQ_DEFAULT_NO_FILTER);
static_assert(index_of(DefaultReason::queue_not_running) == VMQ_DEFAULT_QUEUE_NOT_RUNNING);
static_assert(index_of(DefaultReason::broadcast_multicast) == VMQ_DEFAULT_BROADCAST_MULTICAST);
static_assert(index_of(DefaultReason::malformed) == VMQ_DEFAULT_MALFORMED);
static_assert(index_of(DefaultReason::empty_slot) == VMQ_DEFAULT_EMPTY_SLOT);
static_assert(index_of(DefaultReason::oversize) == VMQ_DEFAULT_OVERSIZE);
static_assert(kMaxSubQueues == VMQ_MAX_SUB_QUEUES_LIMIT, "core allows as many sub-queues as the classifier");

// The state the classifier reads in the queue's slot: only `running` receives frames.
constexpr vmq_queue_state to_abi(QueueState state) {
  switch (state) {
    case QueueState::undefined: return VMQ_QUEUE_UNDEFINED;
    case QueueState::allocated: return VMQ_QUEUE_ALLOCATED;
    case QueueState::set: return VMQ_QUEUE_SET;
    case QueueState::running: return VMQ_QUEUE_RUNNING;
    case QueueState::paused: return VMQ_QUEUE_PAUSED;
    case QueueState::dma_stopped: return VMQ_QUEUE_DMA_STOPPED;
    case QueueState::freeing: return VMQ_QUEUE_FREEING;
  }
  return VMQ_QUEUE_UNDEFINED;
}

// A reason the classifier recorded; nothing for a number it does not define.
constexpr std::optional<DefaultReason> default_reason_from_abi(std::uint32_t reason) {
  if (reason >= VMQ_DEFAULT_REASON_COUNT) return std::nullopt;
  return kDefaultReasons[reason];
}

}  // namespace vmq::os
