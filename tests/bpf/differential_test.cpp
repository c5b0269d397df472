// Differential test: the XDP classifier (through BPF_PROG_TEST_RUN) against
// the reference classifier, on random tables and random frames. For every
// frame the verdict, the bytes that leave, and every counter that moved must
// agree. Frames shorter than an Ethernet header go through the runt harness,
// which shares the classifier's tables and counters.
//
// VMQ_DIFF_SEED=<n> replays a run, VMQ_DIFF_FRAMES=<n> sets the frame count.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <concepts>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string_view>
#include <utility>

#include "os/classifier.h"
#include "reference_classifier.h"
#include "runt_harness.skel.h"
#include "support/privileges.h"
#include "support/xsk_placeholder.h"

namespace vmq::test {
namespace {

// ---------------------------------------------------------------- randomness

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  // Uniform in [lo, hi]. Modulo, not std::uniform_int_distribution, so a seed
  // gives the same frames with any standard library; the bias is irrelevant.
  template <std::integral T>
  T between(T lo, T hi) {
    const auto width = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo) + 1;
    return static_cast<T>(static_cast<std::uint64_t>(lo) + (width == 0 ? engine_() : engine_() % width));
  }
  bool percent(unsigned p) { return between(0u, 99u) < p; }
  std::uint8_t byte() { return static_cast<std::uint8_t>(engine_()); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(engine_()); }
  void fill(std::span<std::uint8_t> out) {
    for (std::size_t i = 0; i < out.size(); i += 8) {
      const std::uint64_t word = engine_();
      std::memcpy(out.data() + i, &word, std::min<std::size_t>(8, out.size() - i));
    }
  }
  template <typename T>
  const T& pick(const std::vector<T>& items) {
    return items[between<std::size_t>(0, items.size() - 1)];
  }

 private:
  std::mt19937_64 engine_;
};

struct Campaign {
  std::uint64_t seed;
  std::uint64_t frames;
};

std::optional<std::uint64_t> env_number(const char* name) {
  const char* text = std::getenv(name);
  if (!text || !*text) return std::nullopt;
  return std::strtoull(text, nullptr, 0);
}

Campaign campaign_from_env() {
  std::random_device entropy;
  const std::uint64_t fresh = std::uint64_t{entropy()} << 32 | entropy();
  return {env_number("VMQ_DIFF_SEED").value_or(fresh), env_number("VMQ_DIFF_FRAMES").value_or(100'000)};
}

// ------------------------------------------------------------ the BPF side

class OwnedFd {
 public:
  explicit OwnedFd(int fd) : fd_(fd) {}
  OwnedFd(OwnedFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  OwnedFd& operator=(OwnedFd&&) = delete;
  ~OwnedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// The kernel keeps BPF_OBJ_NAME_LEN - 1 characters of a map's name.
std::string kernel_map_name(std::string_view name) { return std::string(name.substr(0, BPF_OBJ_NAME_LEN - 1)); }

// The maps of a loaded program, by kernel name. The Classifier keeps its
// skeleton private, so the test finds them the way bpftool would.
class ProgramMaps {
 public:
  static Result<ProgramMaps> of_program(int prog_fd) {
    std::array<std::uint32_t, 32> ids{};
    bpf_prog_info info{};
    info.nr_map_ids = static_cast<std::uint32_t>(ids.size());
    info.map_ids = reinterpret_cast<std::uint64_t>(ids.data());
    std::uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(prog_fd, &info, &len)) return fail_errno(errno, "reading the program's map ids");
    ProgramMaps maps;
    for (std::uint32_t i = 0; i < std::min<std::uint32_t>(info.nr_map_ids, ids.size()); ++i) {
      OwnedFd fd(bpf_map_get_fd_by_id(ids[i]));
      if (fd.get() < 0) return fail_errno(errno, fmt::format("opening map id {}", ids[i]));
      bpf_map_info map_info{};
      std::uint32_t map_len = sizeof map_info;
      if (bpf_obj_get_info_by_fd(fd.get(), &map_info, &map_len)) return fail_errno(errno, "reading map info");
      maps.fds_.emplace(map_info.name, std::move(fd));
    }
    return maps;
  }

  Result<int> fd(std::string_view name) const {
    const auto found = fds_.find(kernel_map_name(name));
    if (found == fds_.end()) return fail(Errc::not_found, fmt::format("the program has no map {}", name));
    return found->second.get();
  }

 private:
  std::map<std::string, OwnedFd> fds_;
};

// Every counter of the classifier, summed over the CPUs.
struct Counters {
  std::vector<vmq_traffic> reasons;
  std::vector<vmq_traffic> queues;
  std::vector<vmq_filter_hits> filters;
};

void add(vmq_traffic& total, const vmq_traffic& part) {
  total.packets += part.packets;
  total.bytes += part.bytes;
}
void add(vmq_filter_hits& total, const vmq_filter_hits& part) { total.hits += part.hits; }

// All entries of a per-CPU array in one syscall: reading counters one lookup
// at a time, twice per frame, would dominate the run time.
template <typename Value>
Result<std::vector<Value>> read_per_cpu_array(int fd, std::uint32_t entries) {
  static_assert(sizeof(Value) % 8 == 0, "per-CPU values are 8-byte aligned");
  const int cpus = libbpf_num_possible_cpus();
  if (cpus < 0) return fail_errno(-cpus, "counting possible CPUs");
  const auto cpu_count = static_cast<std::size_t>(cpus);
  std::vector<std::uint32_t> keys(entries);
  std::vector<Value> per_cpu(entries * cpu_count);
  std::uint32_t next_key = 0, count = entries;
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  if (bpf_map_lookup_batch(fd, nullptr, &next_key, keys.data(), per_cpu.data(), &count, &opts) && errno != ENOENT)
    return fail_errno(errno, "batch-reading a counter map");
  if (count != entries) return fail(Errc::system, fmt::format("read {} of {} counters", count, entries));
  std::vector<Value> totals(entries);
  for (std::size_t i = 0; i < entries; ++i) {
    for (std::size_t cpu = 0; cpu < cpu_count; ++cpu) add(totals.at(keys[i]), per_cpu[i * cpu_count + cpu]);
  }
  return totals;
}

struct CounterMaps {
  int reasons, queues, filters;
  std::uint32_t queue_count, filter_count;

  Result<Counters> read() const {
    auto r = read_per_cpu_array<vmq_traffic>(reasons, VMQ_DEFAULT_REASON_COUNT);
    if (!r) return std::unexpected(r.error());
    auto q = read_per_cpu_array<vmq_traffic>(queues, queue_count);
    if (!q) return std::unexpected(q.error());
    auto f = read_per_cpu_array<vmq_filter_hits>(filters, filter_count);
    if (!f) return std::unexpected(f.error());
    return Counters{std::move(*r), std::move(*q), std::move(*f)};
  }
};

// One counter that moved, by how much. Filters count hits in `packets`.
struct CounterMove {
  enum class Kind { reason, queue, filter };
  Kind kind;
  std::uint32_t index;
  std::uint64_t packets;
  std::uint64_t bytes;

  auto operator<=>(const CounterMove&) const = default;
};

void append_traffic_moves(std::vector<CounterMove>& moves, CounterMove::Kind kind,
                          const std::vector<vmq_traffic>& before, const std::vector<vmq_traffic>& after) {
  for (std::size_t i = 0; i < after.size(); ++i) {
    const std::uint64_t packets = after[i].packets - before[i].packets, bytes = after[i].bytes - before[i].bytes;
    if (packets || bytes) moves.push_back({kind, static_cast<std::uint32_t>(i), packets, bytes});
  }
}

std::vector<CounterMove> moves_between(const Counters& before, const Counters& after) {
  std::vector<CounterMove> moves;
  append_traffic_moves(moves, CounterMove::Kind::reason, before.reasons, after.reasons);
  append_traffic_moves(moves, CounterMove::Kind::queue, before.queues, after.queues);
  for (std::size_t i = 0; i < after.filters.size(); ++i) {
    if (const std::uint64_t hits = after.filters[i].hits - before.filters[i].hits)
      moves.push_back({CounterMove::Kind::filter, static_cast<std::uint32_t>(i), hits, 0});
  }
  return moves;  // ordered by kind, then index
}

// What one frame did, as seen from outside the program.
struct Observation {
  std::uint32_t action = 0;
  std::vector<std::uint8_t> frame;
  std::vector<CounterMove> moves;

  bool operator==(const Observation&) const = default;
};

struct HarnessDeleter {
  void operator()(runt_harness* skel) const { runt_harness__destroy(skel); }
};
using RuntHarness = std::unique_ptr<runt_harness, HarnessDeleter>;

// The runt harness reads its end from 4 bytes of metadata and needs a
// buffer of this length behind it; its counters count the whole buffer.
constexpr std::size_t kRuntBufferLen = 22;
constexpr std::size_t kEthHeaderLen = 14;

// The classifier under test plus the runt harness, one set of tables for
// both, and the reference tables kept in step with them.
class Rig {
 public:
  static Result<std::unique_ptr<Rig>> create(const os::ClassifierLimits& limits) {
    auto classifier = os::Classifier::load(limits);
    if (!classifier) return std::unexpected(classifier.error());
    auto maps = ProgramMaps::of_program(classifier->program_fd());
    if (!maps) return std::unexpected(maps.error());
    std::unique_ptr<Rig> rig(new Rig(std::move(*classifier), std::move(*maps)));
    if (auto ok = rig->load_harness(); !ok) return std::unexpected(ok.error());
    if (auto ok = rig->find_counters(); !ok) return std::unexpected(ok.error());
    if (auto ok = rig->open_sockets(); !ok) return std::unexpected(ok.error());
    auto counters = rig->counter_maps_.read();
    if (!counters) return std::unexpected(counters.error());
    rig->last_counters_ = std::move(*counters);
    rig->reference_.rxq_count = limits.rxq_count;
    rig->reference_.max_frame_len = limits.max_frame_len;
    rig->reference_.sub_queue_slots = limits.sub_queue_slots;
    return rig;
  }

  const ReferenceTables& reference() const { return reference_; }
  const os::ClassifierLimits& limits() const { return classifier_.limits(); }
  std::uint32_t slot_count() const { return limits().max_queues * limits().sub_queue_slots * limits().rxq_count; }

  Result<void> put_filter(const ReferenceFilterKey& key, const vmq_filter_value& value) {
    if (auto ok = classifier_.put_filter(bpf_key(key), value); !ok) return ok;
    reference_.filters[key] = value;
    return {};
  }
  Result<void> delete_filter(const ReferenceFilterKey& key) {
    if (auto ok = classifier_.delete_filter(bpf_key(key)); !ok) return ok;
    reference_.filters.erase(key);
    return {};
  }
  Result<void> put_queue(std::uint32_t queue_id, const vmq_queue_entry& entry) {
    if (auto ok = classifier_.put_queue(queue_id, entry); !ok) return ok;
    reference_.queues[queue_id] = entry;
    return {};
  }
  Result<void> fill_slot(std::uint32_t slot) {
    if (auto ok = classifier_.put_socket(slot, sockets_.at(slot).fd()); !ok) return ok;
    reference_.socket_slots.insert(slot);
    return {};
  }
  Result<void> empty_slot(std::uint32_t slot) {
    if (auto ok = classifier_.delete_socket(slot); !ok) return ok;
    reference_.socket_slots.erase(slot);
    return {};
  }

  // Runs `frame` on rx queue 0 of no device. `beyond_end` is what a runt was
  // cut from: the harness buffer is padded with it, so a parser that read
  // past the end would see a plausible frame.
  Result<Observation> run(std::span<const std::uint8_t> frame, std::span<const std::uint8_t> beyond_end) {
    auto observation = frame.size() < kEthHeaderLen ? run_harness(frame, beyond_end) : run_classifier(frame);
    if (!observation) return observation;
    auto counters = counter_maps_.read();
    if (!counters) return std::unexpected(counters.error());
    observation->moves = moves_between(last_counters_, *counters);
    last_counters_ = std::move(*counters);
    return observation;
  }

 private:
  Rig(os::Classifier classifier, ProgramMaps maps) : classifier_(std::move(classifier)), maps_(std::move(maps)) {}

  static vmq_filter_key bpf_key(const ReferenceFilterKey& key) {
    vmq_filter_key out{};
    std::copy(key.mac.bytes().begin(), key.mac.bytes().end(), out.mac);
    out.vlan = key.vlan;
    return out;
  }

  // The harness reuses every map of the classifier: same tables, same counters.
  Result<void> load_harness() {
    harness_.reset(runt_harness__open());
    if (!harness_) return fail_errno(errno, "opening the runt harness");
    harness_->rodata->rxq_count = limits().rxq_count;
    harness_->rodata->max_frame_len = limits().max_frame_len;
    harness_->rodata->sub_queue_slots = limits().sub_queue_slots;
    bpf_map* shared[] = {harness_->maps.vmq_filters,     harness_->maps.vmq_queues,
                         harness_->maps.vmq_xsks,        harness_->maps.vmq_queue_stats,
                         harness_->maps.vmq_filter_stats, harness_->maps.vmq_default_stats};
    for (bpf_map* map : shared) {
      auto fd = maps_.fd(bpf_map__name(map));
      if (!fd) return std::unexpected(fd.error());
      if (int err = bpf_map__reuse_fd(map, *fd)) return fail_errno(-err, "sharing a map with the runt harness");
    }
    if (int err = runt_harness__load(harness_.get())) return fail_errno(-err, "loading the runt harness");
    return {};
  }

  Result<void> find_counters() {
    auto reasons = maps_.fd("vmq_default_stats");
    auto queues = maps_.fd("vmq_queue_stats");
    auto filters = maps_.fd("vmq_filter_stats");
    if (!reasons || !queues || !filters) return fail(Errc::not_found, "the classifier's counter maps");
    counter_maps_ = {*reasons, *queues, *filters, limits().max_queues, limits().max_filters + 1};
    return {};
  }

  Result<void> open_sockets() {
    sockets_.reserve(slot_count());
    for (std::uint32_t slot = 0; slot < slot_count(); ++slot) {
      if (sockets_.emplace_back().fd() < 0) return fail_errno(errno, "socket(AF_XDP)");
    }
    return {};
  }

  Result<Observation> run_classifier(std::span<const std::uint8_t> frame) const {
    auto result = classifier_.test_run(frame);
    if (!result) return std::unexpected(result.error());
    return Observation{result->action, std::move(result->frame), {}};
  }

  Result<Observation> run_harness(std::span<const std::uint8_t> runt, std::span<const std::uint8_t> beyond_end) const {
    std::vector<std::uint8_t> buffer(runt.begin(), runt.end());
    buffer.insert(buffer.end(), beyond_end.begin(),
                  beyond_end.begin() + static_cast<long>(std::min(beyond_end.size(), kRuntBufferLen - buffer.size())));
    buffer.resize(kRuntBufferLen, 0);

    const auto runt_len = static_cast<std::uint32_t>(runt.size());
    std::array<std::uint8_t, sizeof runt_len> metadata{};
    std::memcpy(metadata.data(), &runt_len, sizeof runt_len);
    auto run = os::run_xdp_test(bpf_program__fd(harness_->progs.vmq_classify_runt), {buffer, metadata});
    if (!run) return std::unexpected(run.error());
    // The buffer left untouched means the runt left unchanged; anything else
    // is shown whole, and cannot equal a runt.
    if (run->frame == buffer) run->frame.assign(runt.begin(), runt.end());
    return Observation{run->action, std::move(run->frame), {}};
  }

  os::Classifier classifier_;
  ProgramMaps maps_;  // keeps the map fds below open
  RuntHarness harness_;
  CounterMaps counter_maps_{};
  Counters last_counters_;
  std::vector<XskPlaceholder> sockets_;  // one per XSKMAP slot, inserted or not
  ReferenceTables reference_;
};

// ------------------------------------------------------- the reference side

Observation expected_observation(const ReferenceVerdict& verdict, std::size_t sent_len) {
  using Kind = CounterMove::Kind;
  Observation out{verdict.action, verdict.frame, {}};
  if (verdict.action == XDP_PASS) {
    // The harness counts its whole buffer, not the runt inside it.
    const std::size_t counted = sent_len < kEthHeaderLen ? kRuntBufferLen : sent_len;
    out.moves.push_back({Kind::reason, static_cast<std::uint32_t>(verdict.reason), 1, counted});
  } else {
    out.moves.push_back({Kind::queue, verdict.queue_id, 1, verdict.frame.size()});
    out.moves.push_back({Kind::filter, verdict.filter_id, 1, 0});
  }
  return out;
}

// ------------------------------------------------------------ random tables

// The addresses and VIDs the filters are drawn from; frames mostly use them too.
struct Universe {
  std::vector<MacAddress> macs;  // unicast VM addresses and one group address
  std::vector<std::uint16_t> vids;
};

Universe random_universe(Rng& rng) {
  Universe u;
  for (int i = 0; i < 6; ++i)
    u.macs.emplace_back(MacAddress::Bytes{0x52, 0x54, 0x00, rng.byte(), rng.byte(), rng.byte()});
  const auto group_octet = static_cast<std::uint8_t>(rng.byte() & 0x7f);
  u.macs.emplace_back(MacAddress::Bytes{0x01, 0x00, 0x5e, group_octet, rng.byte(), rng.byte()});
  for (int i = 0; i < 4; ++i) u.vids.push_back(rng.between<std::uint16_t>(VMQ_VLAN_MIN, VMQ_VLAN_MAX));
  return u;
}

ReferenceFilterKey random_filter_key(Rng& rng, const Universe& u) {
  const bool untagged = rng.percent(35);
  return {rng.pick(u.macs), untagged ? std::uint16_t{VMQ_VLAN_UNTAGGED_OR_ZERO} : rng.pick(u.vids)};
}

vmq_filter_value random_filter_value(Rng& rng, const os::ClassifierLimits& limits) {
  // Now and then a queue id past the queue table, which can never run.
  const std::uint32_t queue_id = rng.percent(5) ? rng.between(limits.max_queues, limits.max_queues + 3)
                                                : rng.between(1u, limits.max_queues - 1);
  return {queue_id, rng.between(1u, limits.max_filters)};
}

vmq_queue_entry random_queue_entry(Rng& rng) {
  const std::uint32_t state = rng.percent(60) ? std::uint32_t{VMQ_QUEUE_RUNNING} : rng.between(0u, 6u);
  // Sub-queues 0 and 1 mean one; 3 is more than the classifier's rows.
  return {state, rng.between(0u, 1u), rng.between(0u, 3u), 0};
}

Result<void> program_random_tables(Rng& rng, Rig& rig, const Universe& u) {
  const auto& limits = rig.limits();
  for (std::uint32_t q = 1; q < limits.max_queues; ++q) {
    if (rng.percent(15)) continue;  // never written: state 0
    if (auto ok = rig.put_queue(q, random_queue_entry(rng)); !ok) return ok;
  }
  for (std::uint32_t slot = 0; slot < rig.slot_count(); ++slot) {
    if (!rng.percent(75)) continue;
    if (auto ok = rig.fill_slot(slot); !ok) return ok;
  }
  for (int i = 0; i < 24; ++i) {
    if (auto ok = rig.put_filter(random_filter_key(rng, u), random_filter_value(rng, limits)); !ok) return ok;
  }
  return {};
}

Result<void> mutate_tables(Rng& rng, Rig& rig, const Universe& u) {
  const auto& limits = rig.limits();
  // Adding a filter is twice as likely as deleting one, filling a slot half
  // again as likely as emptying one: the tables do not drain over a long run.
  switch (rng.between(0, 8)) {
    case 0: {
      const auto& filters = rig.reference().filters;
      if (filters.empty()) return {};
      const ReferenceFilterKey victim =
          std::next(filters.begin(), rng.between<long>(0, static_cast<long>(filters.size()) - 1))->first;
      return rig.delete_filter(victim);
    }
    case 1:
    case 2:
      return rig.put_filter(random_filter_key(rng, u), random_filter_value(rng, limits));
    case 3:
    case 4:
      return rig.put_queue(rng.between(1u, limits.max_queues - 1), random_queue_entry(rng));
    case 5:
    case 6:
    case 7:
      return rig.fill_slot(rng.between(0u, rig.slot_count() - 1));
    default:
      return rig.empty_slot(rng.between(0u, rig.slot_count() - 1));
  }
}

// ------------------------------------------------------------ random frames

constexpr std::uint16_t kTpidQ = 0x8100, kTpidAD = 0x88a8;

std::uint16_t random_vlan_tpid(Rng& rng) { return rng.percent(50) ? kTpidQ : kTpidAD; }

std::uint16_t random_other_type(Rng& rng) {
  static const std::vector<std::uint16_t> common{0x0800, 0x86dd, 0x0806, 0x9100, 0x88e7, 0x0000, 0xffff};
  std::uint16_t type = rng.percent(50) ? rng.pick(common) : rng.u16();
  return type == kTpidQ || type == kTpidAD ? std::uint16_t{0x0800} : type;
}

// The type fields after the MAC addresses, outermost first; each but the
// last is followed by a 2-byte TCI.
std::vector<std::uint16_t> random_tag_layout(Rng& rng) {
  const unsigned roll = rng.between(0u, 99u);
  if (roll < 25) return {};
  if (roll < 45) return {kTpidQ};
  if (roll < 55) return {kTpidAD};
  if (roll < 70) return {random_vlan_tpid(rng), random_vlan_tpid(rng)};
  if (roll < 75) return {random_vlan_tpid(rng), random_vlan_tpid(rng), random_vlan_tpid(rng)};
  if (roll < 85) return {random_other_type(rng)};                       // a "tag" that is no VLAN tag
  if (roll < 95) return {random_vlan_tpid(rng), random_other_type(rng)};  // second "tag" not a tag
  std::vector<std::uint16_t> mixed(rng.between(1u, 3u));
  for (auto& t : mixed) t = rng.percent(50) ? random_vlan_tpid(rng) : random_other_type(rng);
  return mixed;
}

std::uint16_t random_ethertype(Rng& rng) {
  const unsigned roll = rng.between(0u, 99u);
  if (roll < 50) return 0x0800;
  if (roll < 60) return 0x86dd;
  if (roll < 80) return random_other_type(rng);
  return random_vlan_tpid(rng);  // a tag announced and maybe cut off
}

std::uint16_t random_vid(Rng& rng, const Universe& u) {
  const unsigned roll = rng.between(0u, 99u);
  if (roll < 25) return 0;
  if (roll < 70) return rng.pick(u.vids);
  if (roll < 80) return 4095;
  return rng.between<std::uint16_t>(0, 4095);
}

MacAddress random_destination(Rng& rng, const Universe& u) {
  const unsigned roll = rng.between(0u, 99u);
  if (roll < 72) return rng.pick(u.macs);
  if (roll < 75) return MacAddress(MacAddress::Bytes{0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  return MacAddress(MacAddress::Bytes{rng.byte(), rng.byte(), rng.byte(), rng.byte(), rng.byte(), rng.byte()});
}

// A single-buffer program never sees a frame longer than its page (the
// kernel keeps the MTU below that): its campaign stays under kLongestLinear.
constexpr std::size_t kLongestLinear = 3000, kLongestJumbo = 9000;

std::size_t random_length(Rng& rng, std::size_t header_len, const os::ClassifierLimits& limits) {
  const std::uint32_t max_frame_len = limits.max_frame_len;
  const std::size_t longest = limits.multi_buffer ? kLongestJumbo : kLongestLinear;
  const unsigned roll = rng.between(0u, 99u);
  std::size_t len;
  if (roll < 45) len = header_len + rng.between<std::size_t>(0, 64);
  else if (roll < 75) len = rng.between<std::size_t>(60, 1518);
  else if (roll < 93) len = rng.between<std::size_t>(max_frame_len - 6, max_frame_len + 6);
  else len = rng.between<std::size_t>(max_frame_len + 1, longest);
  return std::max(len, header_len);
}

void put_be16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

// Random bytes seldom make an IP header the flow hash reads to the end: most
// of the time, give it a plausible length, fragment field and protocol.
void shape_ip_header(Rng& rng, std::vector<std::uint8_t>& bytes, std::size_t l3) {
  static const std::vector<std::uint8_t> protocols{6, 17, 132, 1, 47};  // TCP, UDP, SCTP, ICMP, GRE
  if (!rng.percent(70)) return;
  const std::uint16_t type = static_cast<std::uint16_t>(bytes[l3 - 2] << 8 | bytes[l3 - 1]);
  if (type == 0x0800 && bytes.size() >= l3 + 20) {
    bytes[l3] = static_cast<std::uint8_t>(0x40 | (rng.percent(80) ? 5 : rng.between(0u, 15u)));
    if (rng.percent(70)) bytes[l3 + 6] = bytes[l3 + 7] = 0;  // not a fragment
    bytes[l3 + 9] = rng.pick(protocols);
  } else if (type == 0x86dd && bytes.size() >= l3 + 40) {
    bytes[l3 + 6] = rng.pick(protocols);
  }
}

struct TestFrame {
  std::vector<std::uint8_t> bytes;
  std::vector<std::uint8_t> beyond_end;  // what a truncation cut off
};

TestFrame random_frame(Rng& rng, const Universe& u, const os::ClassifierLimits& limits) {
  std::vector<std::uint8_t> bytes;
  const auto dst = random_destination(rng, u);
  bytes.insert(bytes.end(), dst.bytes().begin(), dst.bytes().end());
  bytes.insert(bytes.end(), {0x02, rng.byte(), rng.byte(), rng.byte(), rng.byte(), rng.byte()});
  for (std::uint16_t type : random_tag_layout(rng)) {
    put_be16(bytes, type);
    put_be16(bytes, static_cast<std::uint16_t>((rng.u16() & 0xf000) | random_vid(rng, u)));  // random PCP and DEI
  }
  put_be16(bytes, random_ethertype(rng));
  const std::size_t len = random_length(rng, bytes.size(), limits);
  const std::size_t header_len = bytes.size();
  bytes.resize(len);
  rng.fill(std::span(bytes).subspan(header_len));
  shape_ip_header(rng, bytes, header_len);

  TestFrame frame;
  if (rng.percent(10)) {  // cut inside or just after the headers
    const std::size_t cut = rng.between<std::size_t>(1, std::min(bytes.size(), std::size_t{30}));
    frame.beyond_end.assign(bytes.begin() + static_cast<long>(cut), bytes.end());
    bytes.resize(cut);
  }
  frame.bytes = std::move(bytes);
  return frame;
}

// ------------------------------------------------------------------ reports

std::string hex(std::span<const std::uint8_t> bytes) {
  constexpr std::size_t kShown = 256;
  std::string out;
  for (std::size_t i = 0; i < std::min(bytes.size(), kShown); ++i) {
    if (i && i % 32 == 0) out += "\n      ";
    else if (i) out += ' ';
    out += fmt::format("{:02x}", bytes[i]);
  }
  if (bytes.size() > kShown) out += fmt::format(" ... ({} bytes)", bytes.size());
  return out;
}

std::string describe_moves(const std::vector<CounterMove>& moves) {
  std::string out;
  for (const auto& m : moves) {
    if (!out.empty()) out += ", ";
    switch (m.kind) {
      case CounterMove::Kind::reason:
        out += fmt::format("default[{}] +{} pkt +{} B", reason_name(static_cast<vmq_default_reason>(m.index)),
                           m.packets, m.bytes);
        break;
      case CounterMove::Kind::queue:
        out += fmt::format("queue[{}] +{} pkt +{} B", m.index, m.packets, m.bytes);
        break;
      case CounterMove::Kind::filter:
        out += fmt::format("filter[{}] +{} hits", m.index, m.packets);
        break;
    }
  }
  return out.empty() ? "none" : out;
}

std::string action_name(std::uint32_t action) {
  switch (action) {
    case XDP_ABORTED: return "XDP_ABORTED";
    case XDP_DROP: return "XDP_DROP";
    case XDP_PASS: return "XDP_PASS";
    case XDP_TX: return "XDP_TX";
    case XDP_REDIRECT: return "XDP_REDIRECT";
    default: return fmt::format("action {}", action);
  }
}

std::string describe_observation(const Observation& o, std::span<const std::uint8_t> sent) {
  const bool unchanged = std::equal(o.frame.begin(), o.frame.end(), sent.begin(), sent.end());
  return fmt::format("{}; counters: {}; output {} bytes{}", action_name(o.action), describe_moves(o.moves),
                     o.frame.size(), unchanged ? " (unchanged)" : ":\n      " + hex(o.frame));
}

std::string describe_tables(const ReferenceTables& t) {
  std::string out = "filters:";
  for (const auto& [key, value] : t.filters)
    out += fmt::format(" {}/{}->q{}f{}", key.mac.to_string(), key.vlan, value.queue_id, value.filter_id);
  out += "\n    queues (state/mode):";
  for (const auto& [id, q] : t.queues) out += fmt::format(" q{}={}/{}", id, q.state, q.vlan_mode);
  out += "\n    socket slots:";
  for (auto slot : t.socket_slots) out += fmt::format(" {}", slot);
  return out;
}

// The hex dumps stop early; a difference deep in a jumbo frame is named here.
std::string first_output_difference(const Observation& expected, const Observation& bpf) {
  if (expected.frame == bpf.frame) return "";
  const auto& a = expected.frame;
  const auto& b = bpf.frame;
  const auto first = std::mismatch(a.begin(), a.end(), b.begin(), b.end()).first;
  return fmt::format("\n  outputs first differ at byte {}", first - a.begin());
}

std::string disagreement(const Campaign& c, std::uint64_t index, std::span<const std::uint8_t> sent,
                         const ReferenceVerdict& reference, const Observation& expected, const Observation& bpf,
                         const ReferenceTables& tables) {
  return fmt::format(
      "BPF and reference disagree on frame #{} (VMQ_DIFF_SEED={})\n"
      "  frame ({} bytes): {}\n"
      "  reference: {} -> {}\n"
      "  bpf:       {}{}\n"
      "  tables: {}",
      index, c.seed, sent.size(), hex(sent), describe_decision(reference), describe_observation(expected, sent),
      describe_observation(bpf, sent), first_output_difference(expected, bpf), describe_tables(tables));
}

// Which kinds of decision a run exercised: a run that never redirected or
// never hit some reason would agree without proving much.
class Coverage {
 public:
  void count(const ReferenceVerdict& v, std::size_t sent_len) {
    if (sent_len < kEthHeaderLen) ++runts_;
    if (v.action == XDP_PASS) ++passes_.at(v.reason);
    else if (v.frame.size() < sent_len) ++stripped_;
    else ++kept_;
  }

  std::vector<std::string> missing() const {
    std::vector<std::string> out;
    for (std::uint32_t r = 0; r < VMQ_DEFAULT_REASON_COUNT; ++r)
      if (!passes_[r]) out.push_back(reason_name(static_cast<vmq_default_reason>(r)));
    if (!stripped_) out.emplace_back("redirect with the tag stripped");
    if (!kept_) out.emplace_back("redirect with the frame kept");
    if (!runts_) out.emplace_back("runt");
    return out;
  }

  std::string summary() const {
    std::string out = fmt::format("redirect kept {}, stripped {}; runts {}; pass:", kept_, stripped_, runts_);
    for (std::uint32_t r = 0; r < VMQ_DEFAULT_REASON_COUNT; ++r)
      out += fmt::format(" {} {},", reason_name(static_cast<vmq_default_reason>(r)), passes_[r]);
    out.pop_back();
    return out;
  }

 private:
  std::array<std::uint64_t, VMQ_DEFAULT_REASON_COUNT> passes_{};
  std::uint64_t stripped_ = 0, kept_ = 0, runts_ = 0;
};

// ------------------------------------------------------------------- tests

struct RigConfig {
  const char* name;
  os::ClassifierLimits limits;
};

void PrintTo(const RigConfig& config, std::ostream* out) { *out << config.name; }

class Differential : public ::testing::TestWithParam<RigConfig> {};

TEST_P(Differential, BpfClassifierAgreesWithTheReference) {
  VMQ_REQUIRE_BPF();
  const Campaign campaign = campaign_from_env();
  fmt::print("[ diff     ] VMQ_DIFF_SEED={} VMQ_DIFF_FRAMES={} ({})\n", campaign.seed, campaign.frames,
             GetParam().name);
  std::fflush(stdout);
  SCOPED_TRACE(fmt::format("VMQ_DIFF_SEED={}", campaign.seed));

  auto rig = Rig::create(GetParam().limits);
  ASSERT_TRUE(rig) << rig.error().message;
  Rng rng(campaign.seed);
  const Universe universe = random_universe(rng);
  auto programmed = program_random_tables(rng, **rig, universe);
  ASSERT_TRUE(programmed) << programmed.error().message;

  Coverage coverage;
  std::uint64_t mutations = 0;
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < campaign.frames; ++i) {
    if (rng.percent(1)) {
      auto mutated = mutate_tables(rng, **rig, universe);
      ASSERT_TRUE(mutated) << "before frame #" << i << ": " << mutated.error().message;
      ++mutations;
    }
    const TestFrame frame = random_frame(rng, universe, (*rig)->limits());
    const ReferenceVerdict reference = reference_classify(frame.bytes, 0, (*rig)->reference());
    auto bpf = (*rig)->run(frame.bytes, frame.beyond_end);
    ASSERT_TRUE(bpf) << "frame #" << i << ": " << bpf.error().message;
    const Observation expected = expected_observation(reference, frame.bytes.size());
    if (*bpf != expected)
      FAIL() << disagreement(campaign, i, frame.bytes, reference, expected, *bpf, (*rig)->reference());
    coverage.count(reference, frame.bytes.size());
  }
  const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start);
  fmt::print("[ diff     ] {} frames agree in {:.2f} s, {} table changes; {}\n", campaign.frames, elapsed.count(),
             mutations, coverage.summary());

  if (campaign.frames >= 10'000) {
    const auto missing = coverage.missing();
    EXPECT_TRUE(missing.empty()) << "never exercised: " << fmt::format("{}", fmt::join(missing, ", "));
  }
}

INSTANTIATE_TEST_SUITE_P(Limits, Differential,
                         ::testing::Values(RigConfig{"OneRxQueue", {16, 64, 1, 3840}},
                                           // rx queue 0 only (no device): slot q*2+0 must be the one used
                                           RigConfig{"TwoRxQueues", {16, 64, 2, 2000}},
                                           // a standard-MTU uplink's build; frames up to 3,000 bytes
                                           RigConfig{"SingleBuffer", {16, 64, 1, 1500, false}},
                                           // VMMQ: queues of up to 2 sub-queues (entries may ask for 3)
                                           RigConfig{"TwoSubQueues", {16, 64, 2, 2000, true, false, 2}}),
                         [](const auto& test) { return std::string(test.param.name); });

}  // namespace
}  // namespace vmq::test
