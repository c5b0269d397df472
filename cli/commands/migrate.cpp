// migrate drain|restore: live migration of a VM's queue, built to be called
// from a libvirt hook as well as by hand: both are safe to repeat.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "args.h"
#include "commands/command.h"
#include "format.h"

namespace vmq::cli {
namespace {

struct DrainArgs {
  std::string queue;
  std::string output;  // empty: the document goes to stdout
};

struct RestoreArgs {
  std::string file;  // "-": stdin
  std::optional<std::string> uplink, port, cpu;
};

Failure file_failure(std::string message) { return Failure{ExitCode::refused, "invalid_argument", std::move(message), {}}; }

std::expected<std::string, Failure> read_text(const std::string& path) {
  std::stringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
    return text.str();
  }
  std::ifstream in(path);
  if (!in) return std::unexpected(file_failure(fmt::format("cannot read {}: {}", path, std::strerror(errno))));
  text << in.rdbuf();
  return text.str();
}

// Written next to its final name, then renamed: a reader never sees half a document.
std::expected<void, Failure> write_document(const std::string& path, const json& document) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << document.dump(2) << "\n";
    if (!out.flush()) return std::unexpected(file_failure(fmt::format("cannot write {}", temporary)));
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) return std::unexpected(file_failure(fmt::format("cannot write {}: {}", path, ec.message())));
  return {};
}

// A repeated drain: the queue is gone and its document is already in `path`.
bool drained_before(const std::string& queue, const std::string& path) {
  std::ifstream in(path);
  if (!in) return false;
  const json doc = json::parse(in, nullptr, false);
  return !doc.is_discarded() && doc.is_object() && member(doc, {"format"}) == "vmq-migration" &&
         text(member(doc, {"queue", "name"})) == queue;
}

std::string drain_summary(const json& result, const std::string& output) {
  const json& doc = member(result, {"document"});
  return fmt::format("queue {} drained on {}: {} frame(s) delivered during the drain in {}, DMA stopped; {}\n",
                     text(member(doc, {"queue", "name"})), text(member(doc, {"source_host"})),
                     count(member(result, {"drained_frames"})), duration_text(count(member(result, {"drain_us"}))),
                     output.empty() ? "document on stdout" : "document written to " + output);
}

Outcome drain(Session& session, const DrainArgs& args) {
  auto result = session.call("migrate.drain", {{"queue", args.queue}});
  if (!result) {
    if (result.error().code == "not_found" && !args.output.empty() && drained_before(args.queue, args.output)) {
      const json already{{"already_drained", true}, {"document_file", args.output}};
      session.present(already, [&](const json&) {
        return fmt::format("queue {} was already drained: its document is in {}\n", args.queue, args.output);
      });
      return {};
    }
    return std::unexpected(result.error());
  }
  if (args.output.empty()) {
    // The document itself is the output, so that it can be redirected.
    if (session.json_mode()) {
      print_json(*result);
    } else {
      print_json(member(*result, {"document"}));
      std::fputs(drain_summary(*result, "").c_str(), stderr);
    }
    return {};
  }
  if (auto written = write_document(args.output, member(*result, {"document"})); !written) {
    // The queue is gone: the document must not be lost with the file.
    print_json(member(*result, {"document"}));
    Failure f = written.error();
    f.message = "the queue was drained but " + f.message + "; the document is on stdout";
    return std::unexpected(f);
  }
  session.present(*result, [&](const json& r) { return drain_summary(r, args.output); });
  return {};
}

std::string restore_summary(const json& result) {
  const json& q = member(result, {"queue"});
  if (member(result, {"already_restored"}).get<bool>())
    return fmt::format("queue {} is already restored here ({})\n", queue_label(q), text(member(q, {"state"})));
  const std::string choice = text(member(result, {"cpu_choice"}));
  return fmt::format("queue {} restored from {}: {} on CPU {} ({}), {} filter(s), in {}\n", queue_label(q),
                     text(member(result, {"source_host"})), text(member(q, {"state"})), text(member(q, {"cpu"})),
                     choice == "document" ? "as on the source" : choice == "given" ? "as asked" : "least loaded",
                     member(q, {"filters"}).size(), duration_text(count(member(result, {"restore_us"}))));
}

Outcome restore(Session& session, const RestoreArgs& args) {
  json params = json::object();
  if (args.cpu) {
    if (*args.cpu == "auto") {
      params["cpu"] = "auto";
    } else {
      auto cpu = parse_number("--cpu", *args.cpu, 4095);
      if (!cpu) return std::unexpected(usage_failure(cpu.error().message + " (or auto)"));
      params["cpu"] = *cpu;
    }
  }
  if (args.uplink) params["uplink"] = *args.uplink;
  if (args.port) params["port"] = *args.port;
  auto content = read_text(args.file);
  if (!content) return std::unexpected(content.error());
  const json document = json::parse(*content, nullptr, false);
  if (document.is_discarded())
    return std::unexpected(file_failure(fmt::format("migration document {} is not valid JSON (truncated?)", args.file)));
  params["document"] = document;
  auto result = session.call("migrate.restore", params);
  if (!result) return std::unexpected(result.error());
  session.present(*result, restore_summary);
  return {};
}

}  // namespace

void add_migrate_commands(CLI::App& app, Runner& runner) {
  auto* group = app.add_subcommand("migrate", "Live migration: drain a VM's queue here, restore it elsewhere");
  group->require_subcommand(1);

  auto d = std::make_shared<DrainArgs>();
  auto* drain_cmd = group->add_subcommand(
      "drain", "Stop classifying into a queue, deliver what it holds, free it and describe it (a document)");
  drain_cmd->add_option("QUEUE", d->queue, "Queue name or id (NAME|ID)")->type_name("")->required();
  drain_cmd->add_option("-o,--output", d->output,
                        "Write the migration document to FILE (default: stdout); a repeated drain with the same "
                        "FILE succeeds")
      ->type_name("FILE");
  runner.on(drain_cmd, [d](Session& s) { return drain(s, *d); });

  auto r = std::make_shared<RestoreArgs>();
  auto* restore_cmd = group->add_subcommand(
      "restore", "Re-create a drained queue from its document and make it run (all or nothing; repeatable)");
  restore_cmd->add_option("FILE", r->file, "Migration document ('-': stdin)")->type_name("")->required();
  restore_cmd->add_option("--uplink", r->uplink, "Uplink here, if not the source's")->type_name("IF");
  restore_cmd->add_option("--port", r->port, "The VM's port here, if not the source's")->type_name("IF");
  restore_cmd->add_option("--cpu", r->cpu, "CPU N, or auto (default: the source's CPU if usable here, else auto)")
      ->type_name("N|auto");
  runner.on(restore_cmd, [r](Session& s) { return restore(s, *r); });
}

}  // namespace vmq::cli
