// migrate drain|restore: live migration of a VM's queue, built to be called
// from a libvirt hook as well as by hand: both are safe to repeat.
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "args.h"
#include "commands/command.h"
#include "migrate_text.h"

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
  auto document = api::from_json<api::MigrationDocument>(json::parse(in, nullptr, false));
  return document && document->format == api::kMigrationFormat && document->queue.settings.name == queue;
}

// The document as vmqd wrote it, with any field this vmqctl does not know:
// its checksum covers them.
const json& document_as_sent(const json& result) {
  static const json none;
  const auto it = result.find("document");
  return it == result.end() ? none : *it;
}

Outcome drain(Session& session, const DrainArgs& args) {
  auto answer = session.call<api::MigrateDrain>({args.queue});
  if (!answer) {
    if (answer.error().code == "not_found" && !args.output.empty() && drained_before(args.queue, args.output)) {
      if (session.json_mode())
        print_json(json{{"already_drained", true}, {"document_file", args.output}});
      else
        std::fputs(fmt::format("queue {} was already drained: its document is in {}\n", args.queue, args.output).c_str(),
                   stdout);
      return {};
    }
    return std::unexpected(answer.error());
  }
  const json& document = document_as_sent(answer->result);
  if (args.output.empty()) {
    // The document itself is the output, so that it can be redirected.
    if (session.json_mode()) {
      print_json(answer->result);
    } else {
      print_json(document);
      std::fputs(drain_summary(answer->reply, "").c_str(), stderr);
    }
    return {};
  }
  if (auto written = write_document(args.output, document); !written) {
    // The queue is gone: the document must not be lost with the file.
    print_json(document);
    Failure f = written.error();
    f.message = "the queue was drained but " + f.message + "; the document is on stdout";
    return std::unexpected(f);
  }
  session.present(*answer, [&](const api::MigrateDrainReply& r) { return drain_summary(r, args.output); });
  return {};
}

Outcome restore(Session& session, const RestoreArgs& args) {
  api::MigrateRestoreParams params;
  if (args.cpu) {
    if (*args.cpu == "auto") {
      params.cpu = api::RestoreCpu{};
    } else {
      auto cpu = parse_number("--cpu", *args.cpu, api::kCpuMax);
      if (!cpu) return std::unexpected(usage_failure(cpu.error().message + " (or auto)"));
      params.cpu = api::RestoreCpu{static_cast<std::uint32_t>(*cpu)};
    }
  }
  params.uplink = args.uplink;
  params.port = args.port;
  auto content = read_text(args.file);
  if (!content) return std::unexpected(content.error());
  params.document = json::parse(*content, nullptr, false);
  if (params.document.is_discarded())
    return std::unexpected(file_failure(fmt::format("migration document {} is not valid JSON (truncated?)", args.file)));
  return session.run<api::MigrateRestore>(params, restore_summary);
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
