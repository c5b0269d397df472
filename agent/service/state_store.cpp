#include "service/state_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/codec.h"
#include "os/unique_fd.h"
#include "service/api_records.h"

namespace vmq::service {
namespace {

using json = nlohmann::json;

// The file's records; format and version are checked before it is decoded.
struct StateDocument {
  std::vector<api::StoredQueue> queues;

  template <typename V, typename Self>
  static void fields(V& v, Self& self) {
    v("queues", self.queues);
  }
};

api::StoredQueue stored(const SavedQueue& saved) {
  const Queue& q = saved.queue;
  api::StoredQueue out{q.id, q.cpu, q.cpu_pinned, settings_of(q), {}};
  if (!q.sub_queue_cpus.empty()) out.sub_queue_cpus.emplace(q.sub_queue_cpus.begin(), q.sub_queue_cpus.end());
  for (const Filter& f : saved.filters) out.filters.push_back({f.id, rule_of(f.match)});
  return out;
}

SavedQueue saved(const api::StoredQueue& stored) {
  SavedQueue out;
  Queue& q = out.queue;
  q.id = stored.id;
  q.name = stored.settings.name;
  q.vm = stored.settings.vm;
  q.uplink = stored.settings.uplink;
  q.port = stored.settings.port;
  q.cpu = stored.cpu;
  q.cpu_pinned = stored.cpu_pinned.value_or(true);
  if (stored.sub_queue_cpus && stored.sub_queue_cpus->size() > 1)
    q.sub_queue_cpus.assign(stored.sub_queue_cpus->begin(), stored.sub_queue_cpus->end());
  q.frames = stored.settings.frames;
  q.vlan_mode = stored.settings.vlan_mode;
  q.port_kind = stored.settings.port_kind;
  q.paused_by_operator = stored.settings.paused_by_operator;
  for (const api::StoredFilter& f : stored.filters) out.filters.push_back(Filter{f.id, q.id, match_of(f.rule)});
  return out;
}

// Format 1 called paused_by_operator "paused"; nothing else changed.
Result<void> upgrade_from_format_1(json& document) {
  auto queues = document.find("queues");
  if (queues == document.end() || !queues->is_array()) return {};
  for (std::size_t i = 0; i < queues->size(); ++i) {
    json& queue = (*queues)[i];
    if (!queue.is_object()) continue;
    auto paused = queue.find("paused");
    if (paused == queue.end()) return fail(Errc::invalid_argument, fmt::format("queues[{}].paused is missing", i));
    queue["paused_by_operator"] = *paused;
    queue.erase("paused");
  }
  return {};
}

Result<void> write_file_synced(const std::string& path, const std::string& data) {
  // A leftover from a crash is replaced, never reused: its mode or a symlink
  // in its place would pass on to the state file.
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return fail_errno(errno, fmt::format("removing {}", path));
  os::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return fail_errno(errno, fmt::format("creating {}", path));
  std::size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = ::write(fd.get(), data.data() + written, data.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(errno, fmt::format("writing {}", path));
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return fail_errno(errno, fmt::format("syncing {}", path));
  return {};
}

}  // namespace

Result<std::vector<SavedQueue>> StateStore::load() const {
  const std::string file = path();
  std::ifstream in(file);
  if (!in) {
    if (errno == ENOENT) return std::vector<SavedQueue>{};
    return fail_errno(errno, fmt::format("reading state file {}", file));
  }
  std::stringstream text;
  text << in.rdbuf();
  auto refuse = [&](const std::string& why) {
    return fail(Errc::invalid_argument,
                fmt::format("state file {}: {}; it was left untouched: move it away to start without saved queues",
                            file, why));
  };
  json j = json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return refuse("not valid JSON (corrupt or truncated)");
  const auto format = j.find("format");
  if (format == j.end() || !format->is_string() || format->get<std::string>() != "vmq-state")
    return refuse("not a vmq state file");
  const auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer()) return refuse("no format version");
  // A version beyond long long is newer too, not a negative one.
  if (version->is_number_unsigned() ? version->get<std::uint64_t>() > static_cast<std::uint64_t>(kStateFormatVersion)
                                    : version->get<long long>() > kStateFormatVersion)
    return refuse(fmt::format("written by a newer vmqd (format {}, this vmqd reads up to {})", version->dump(),
                              kStateFormatVersion));
  if (version->get<long long>() < 1) return refuse(fmt::format("unknown format version {}", version->dump()));
  if (version->get<long long>() == 1)
    if (auto upgraded = upgrade_from_format_1(j); !upgraded) return refuse(upgraded.error().message);
  auto document = api::from_json<StateDocument>(j);
  if (!document) return refuse(document.error().message);
  std::vector<SavedQueue> out;
  for (const api::StoredQueue& queue : document->queues) out.push_back(saved(queue));
  return out;
}

Result<void> StateStore::save(const std::vector<SavedQueue>& queues) const {
  std::error_code ec;
  std::filesystem::create_directories(directory_, ec);
  if (ec) return fail(Errc::system, fmt::format("creating state directory {}: {}", directory_, ec.message()));
  StateDocument records;
  for (const auto& q : queues) records.queues.push_back(stored(q));
  json doc = api::to_json(records);
  doc["format"] = "vmq-state";
  doc["version"] = kStateFormatVersion;
  const std::string file = path();
  const std::string temporary = file + ".tmp";
  if (auto ok = write_file_synced(temporary, doc.dump(2) + "\n"); !ok) return ok;
  if (::rename(temporary.c_str(), file.c_str()) != 0) return fail_errno(errno, fmt::format("replacing {}", file));
  os::UniqueFd dir(::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir || ::fsync(dir.get()) != 0) return fail_errno(errno, fmt::format("syncing {}", directory_));
  return {};
}

}  // namespace vmq::service
