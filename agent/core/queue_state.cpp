#include "core/queue_state.h"

namespace vmq {

std::optional<QueueState> next_state(QueueState from, QueueEvent event) {
  using S = QueueState;
  using E = QueueEvent;
  switch (event) {
    case E::allocate:
      if (from == S::undefined) return S::allocated;
      break;
    case E::set_filter:
      if (from == S::allocated || from == S::set) return S::set;
      if (from == S::running || from == S::paused) return S::running;
      break;
    case E::clear_filter:
      if (from == S::set || from == S::running) return from;
      break;
    case E::clear_last_filter:
      if (from == S::set) return S::allocated;
      if (from == S::running) return S::paused;
      break;
    case E::allocation_complete:
      if (from == S::allocated) return S::paused;
      if (from == S::set) return S::running;
      break;
    case E::free:
      if (from == S::allocated || from == S::paused) return S::dma_stopped;
      break;
    case E::dma_stopped:
      if (from == S::dma_stopped) return S::freeing;
      break;
    case E::resources_freed:
      if (from == S::freeing) return S::undefined;
      break;
  }
  return std::nullopt;
}

bool parameters_accessible(QueueState state) {
  return state == QueueState::allocated || state == QueueState::set || state == QueueState::running ||
         state == QueueState::paused;
}

std::string_view to_string(QueueState state) {
  switch (state) {
    case QueueState::undefined: return "undefined";
    case QueueState::allocated: return "allocated";
    case QueueState::set: return "set";
    case QueueState::running: return "running";
    case QueueState::paused: return "paused";
    case QueueState::dma_stopped: return "dma-stopped";
    case QueueState::freeing: return "freeing";
  }
  return "unknown";
}

std::string_view to_string(QueueEvent event) {
  switch (event) {
    case QueueEvent::allocate: return "allocate";
    case QueueEvent::set_filter: return "set a filter on";
    case QueueEvent::clear_filter: return "clear a filter of";
    case QueueEvent::clear_last_filter: return "clear the last filter of";
    case QueueEvent::allocation_complete: return "complete the allocation of";
    case QueueEvent::free: return "free";
    case QueueEvent::dma_stopped: return "report DMA stopped for";
    case QueueEvent::resources_freed: return "release the resources of";
  }
  return "unknown";
}

}  // namespace vmq
