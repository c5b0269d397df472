#include "filter_text.h"

#include <fmt/format.h>

#include "format.h"
#include "table.h"

namespace vmq::cli {

std::string filter_list_text(const api::FilterListReply& list) {
  Table table({{"ID", Align::right},
               {"QUEUE"},
               {"QUEUE ID", Align::right},
               {"MAC"},
               {"VLAN", Align::right},
               {"HITS", Align::right}});
  for (const auto& f : list.filters)
    table.add_row({std::to_string(f.id), f.queue.name, std::to_string(f.queue.id), f.rule.mac.to_string(),
                   vlan_text(f.rule.vlan), f.hits ? std::to_string(*f.hits) : ""});
  return table.render();
}

std::string filter_added_text(const api::Filter& f) {
  return fmt::format("filter {} added to queue {}: {}\n", f.id, queue_label(f.queue), match_text(f.rule));
}

std::string filter_deleted_text(const api::Filter& f) {
  return fmt::format("filter {} deleted from queue {}: {}\n", f.id, queue_label(f.queue), match_text(f.rule));
}

}  // namespace vmq::cli
