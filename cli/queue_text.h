// What vmqctl prints for people about queues, from the typed replies.
#pragma once

#include <cstddef>
#include <string>

#include "api/methods.h"

namespace vmq::cli {

std::string filters_table(const std::vector<api::Filter>& filters, std::size_t indent);
std::string counters_table(const api::Counters& counters, std::size_t indent);
// queue show: settings, filters, counters (or why they could not be read).
std::string queue_detail_text(const api::Queue& queue);
std::string queue_list_text(const api::QueueListReply& list);
std::string queue_added_text(const api::Queue& queue);
std::string queue_updated_text(const api::Queue& queue);
std::string queue_state_text(const api::Queue& queue);
std::string queue_deleted_text(const api::QueueDelReply& deleted);

}  // namespace vmq::cli
