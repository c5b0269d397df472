// What vmqctl prints for people about filters, from the typed replies.
#pragma once

#include <string>

#include "api/methods.h"

namespace vmq::cli {

std::string filter_list_text(const api::FilterListReply& list);
std::string filter_added_text(const api::Filter& filter);
std::string filter_deleted_text(const api::Filter& filter);

}  // namespace vmq::cli
