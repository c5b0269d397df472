// filter add|list|del
#include <fmt/format.h>

#include "args.h"
#include "commands/command.h"
#include "filter_text.h"

namespace vmq::cli {
namespace {

struct FilterAddArgs {
  std::string queue, mac;
  std::optional<std::string> vlan;
  bool untagged = false;
};

Outcome add_filter(Session& session, const FilterAddArgs& args) {
  auto rule = parse_filter(args.mac, args.vlan, args.untagged);
  if (!rule) return std::unexpected(invalid_argument(rule.error()));
  return session.run<api::FilterAdd>({args.queue, *rule}, filter_added_text);
}

Outcome list_filters(Session& session, const std::string& queue) {
  api::FilterListParams params;
  if (!queue.empty()) params.queue = queue;
  return session.run<api::FilterList>(params, filter_list_text);
}

Outcome delete_filter(Session& session, const std::string& filter) {
  auto id = parse_number("FILTER_ID", filter, UINT32_MAX);
  if (!id) return std::unexpected(invalid_argument(id.error()));
  return session.run<api::FilterDel>({static_cast<std::uint32_t>(*id)}, filter_deleted_text);
}

}  // namespace

void add_filter_commands(CLI::App& app, Runner& runner) {
  auto* group = app.add_subcommand("filter", "Add, list and delete a queue's MAC/VLAN filters");
  group->require_subcommand(1);

  auto a = std::make_shared<FilterAddArgs>();
  auto* add = group->add_subcommand("add", "Steer frames to a queue by destination MAC and VLAN");
  add->add_option("QUEUE", a->queue, "Queue name or id (NAME|ID)")->type_name("")->required();
  add->add_option("--mac", a->mac, "Destination MAC address to match")->type_name("MAC")->required();
  add->add_option("--vlan", a->vlan, "VLAN id 1..4094 to match")->type_name("N");
  add->add_flag("--untagged", a->untagged, "Match untagged and priority-tagged frames (the default)");
  runner.on(add, [a](Session& s) { return add_filter(s, *a); });

  auto queue = std::make_shared<std::string>();
  auto* list = group->add_subcommand("list", "Filters of one queue, or of all");
  list->add_option("QUEUE", *queue, "Only this queue's filters (NAME|ID)")->type_name("");
  runner.on(list, [queue](Session& s) { return list_filters(s, *queue); });

  auto filter = std::make_shared<std::string>();
  auto* del = group->add_subcommand("del", "Delete a filter (as 'filter list' numbers it)");
  del->add_option("FILTER_ID", *filter, "Filter id, as 'filter list' shows it")->type_name("")->required();
  runner.on(del, [filter](Session& s) { return delete_filter(s, *filter); });
}

}  // namespace vmq::cli
