#include "migrate_text.h"

#include <fmt/format.h>

#include "format.h"

namespace vmq::cli {
namespace {

std::string cpu_choice_text(const std::optional<api::CpuChoice>& choice) {
  if (choice == api::CpuChoice::document) return "as on the source";
  if (choice == api::CpuChoice::given) return "as asked";
  return "least loaded";
}

}  // namespace

std::string drain_summary(const api::MigrateDrainReply& d, const std::string& output) {
  return fmt::format("queue {} drained on {}: {} frame(s) delivered during the drain in {}, DMA stopped; {}\n",
                     d.document.queue.settings.name, d.document.source_host, d.drained_frames,
                     duration_text(d.drain_us), output.empty() ? "document on stdout" : "document written to " + output);
}

std::string restore_summary(const api::MigrateRestoreReply& r) {
  const api::Queue& q = r.queue;
  if (r.already_restored) return fmt::format("queue {} is already restored here ({})\n", queue_label(q), q.state);
  return fmt::format("queue {} restored from {}: {} on CPU {} ({}), {} filter(s), in {}\n", queue_label(q),
                     r.source_host.value_or("?"), q.state, q.cpu, cpu_choice_text(r.cpu_choice), q.filters.size(),
                     duration_text(r.restore_us));
}

}  // namespace vmq::cli
