// filter add|list|del
#include <fmt/format.h>

#include "args.h"
#include "commands/command.h"
#include "format.h"
#include "table.h"

namespace vmq::cli {
namespace {

struct FilterAddArgs {
  std::string queue, mac;
  std::optional<std::string> vlan;
  bool untagged = false;
};

std::string match_text(const json& f) {
  return fmt::format("MAC {} {}", text(member(f, {"mac"})),
                     member(f, {"vlan"}).is_null() ? "untagged" : "VLAN " + text(member(f, {"vlan"})));
}

std::string filter_list_text(const json& result) {
  Table table({{"ID", Align::right},
               {"QUEUE"},
               {"QUEUE ID", Align::right},
               {"MAC"},
               {"VLAN", Align::right},
               {"HITS", Align::right}});
  for (const auto& f : member(result, {"filters"}))
    table.add_row({text(member(f, {"id"})), text(member(f, {"queue", "name"})), text(member(f, {"queue", "id"})),
                   text(member(f, {"mac"})), vlan_text(member(f, {"vlan"})), text(member(f, {"hits"}))});
  return table.render();
}

Outcome add_filter(Session& session, const FilterAddArgs& args) {
  auto match = parse_filter(args.mac, args.vlan, args.untagged);
  if (!match) return std::unexpected(invalid_argument(match.error()));
  json params = filter_params(*match);
  params["queue"] = args.queue;
  auto result = session.call("filter.add", params);
  if (!result) return std::unexpected(result.error());
  session.present(*result, [](const json& f) {
    return fmt::format("filter {} added to queue {}: {}\n", text(member(f, {"id"})), queue_label(member(f, {"queue"})),
                       match_text(f));
  });
  return {};
}

Outcome list_filters(Session& session, const std::string& queue) {
  json params = json::object();
  if (!queue.empty()) params["queue"] = queue;
  auto result = session.call("filter.list", params);
  if (!result) return std::unexpected(result.error());
  session.present(*result, filter_list_text);
  return {};
}

Outcome delete_filter(Session& session, const std::string& filter) {
  auto id = parse_number("FILTER_ID", filter, UINT32_MAX);
  if (!id) return std::unexpected(invalid_argument(id.error()));
  auto result = session.call("filter.del", {{"filter", *id}});
  if (!result) return std::unexpected(result.error());
  session.present(*result, [](const json& f) {
    return fmt::format("filter {} deleted from queue {}: {}\n", text(member(f, {"id"})),
                       queue_label(member(f, {"queue"})), match_text(f));
  });
  return {};
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
