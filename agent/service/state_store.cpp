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

#include "os/unique_fd.h"
#include "service/json_record.h"

namespace vmq::service {
namespace {

using json = nlohmann::json;

json to_json(const SavedQueue& saved) {
  const Queue& q = saved.queue;
  json filters = json::array();
  for (const Filter& f : saved.filters) {
    filters.push_back({{"id", f.id},
                       {"mac", f.match.mac.to_string()},
                       {"vlan", f.match.untagged() ? json(nullptr) : json(f.match.vlan)}});
  }
  return {{"id", q.id},         {"name", q.name},     {"vm", q.vm},
          {"uplink", q.uplink}, {"port", q.port},     {"cpu", q.cpu},
          {"frames", q.frames}, {"vlan_mode", to_string(q.vlan_mode)},
          {"paused", q.paused_by_operator},           {"filters", filters}};
}

Result<Filter> filter_from_json(const json& j, QueueId queue, const std::string& where) {
  if (!j.is_object()) return fail(Errc::invalid_argument, where + ": not an object");
  RecordReader r(j, where);
  FilterId id = 0;
  std::string mac_text;
  r.read("id", id);
  r.read("mac", mac_text);
  if (r.error()) return std::unexpected(*r.error());
  auto mac = MacAddress::parse(mac_text);
  if (!mac) return fail(Errc::invalid_argument, fmt::format("{}: {}", where, mac.error().message));
  std::optional<long> vlan;
  if (auto v = j.find("vlan"); v != j.end() && !v->is_null()) {
    if (!v->is_number_integer()) return fail(Errc::invalid_argument, where + ": 'vlan' has the wrong type");
    // Beyond long, named as written rather than as what a narrowing made of it.
    if (v->is_number_unsigned() && v->get<std::uint64_t>() > VMQ_VLAN_MAX)
      return fail(Errc::invalid_argument, fmt::format("{}: VLAN {} out of range {}..{}", where,
                                                      v->get<std::uint64_t>(), VMQ_VLAN_MIN, VMQ_VLAN_MAX));
    vlan = v->get<long>();
  }
  auto match = FilterMatch::make(*mac, vlan);
  if (!match) return fail(Errc::invalid_argument, fmt::format("{}: {}", where, match.error().message));
  return Filter{id, queue, *match};
}

Result<SavedQueue> queue_from_json(const json& j, std::size_t index) {
  const std::string where = fmt::format("queue #{}", index);
  if (!j.is_object()) return fail(Errc::invalid_argument, where + ": not an object");
  SavedQueue saved;
  Queue& q = saved.queue;
  std::string mode;
  RecordReader r(j, where);
  r.read("id", q.id);
  r.read("name", q.name);
  r.read("vm", q.vm);
  r.read("uplink", q.uplink);
  r.read("port", q.port);
  r.read("cpu", q.cpu);
  r.read("frames", q.frames);
  r.read("vlan_mode", mode);
  r.read("paused", q.paused_by_operator);
  if (r.error()) return std::unexpected(*r.error());
  auto vlan_mode = parse_vlan_mode(mode);
  if (!vlan_mode) return fail(Errc::invalid_argument, fmt::format("{}: {}", where, vlan_mode.error().message));
  q.vlan_mode = *vlan_mode;
  auto filters = j.find("filters");
  if (filters == j.end() || !filters->is_array())
    return fail(Errc::invalid_argument, where + ": 'filters' must be an array");
  for (std::size_t i = 0; i < filters->size(); ++i) {
    auto f = filter_from_json((*filters)[i], q.id, fmt::format("{} filter #{}", where, i));
    if (!f) return std::unexpected(f.error());
    saved.filters.push_back(*f);
  }
  return saved;
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
  const auto queues = j.find("queues");
  if (queues == j.end() || !queues->is_array()) return refuse("'queues' must be an array");
  std::vector<SavedQueue> out;
  for (std::size_t i = 0; i < queues->size(); ++i) {
    auto saved = queue_from_json((*queues)[i], i);
    if (!saved) return refuse(saved.error().message);
    out.push_back(std::move(*saved));
  }
  return out;
}

Result<void> StateStore::save(const std::vector<SavedQueue>& queues) const {
  std::error_code ec;
  std::filesystem::create_directories(directory_, ec);
  if (ec) return fail(Errc::system, fmt::format("creating state directory {}: {}", directory_, ec.message()));
  json doc{{"format", "vmq-state"}, {"version", kStateFormatVersion}, {"queues", json::array()}};
  for (const auto& q : queues) doc["queues"].push_back(to_json(q));
  const std::string file = path();
  const std::string temporary = file + ".tmp";
  if (auto ok = write_file_synced(temporary, doc.dump(2) + "\n"); !ok) return ok;
  if (::rename(temporary.c_str(), file.c_str()) != 0) return fail_errno(errno, fmt::format("replacing {}", file));
  os::UniqueFd dir(::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir || ::fsync(dir.get()) != 0) return fail_errno(errno, fmt::format("syncing {}", directory_));
  return {};
}

}  // namespace vmq::service
