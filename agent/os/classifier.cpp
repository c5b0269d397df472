#include "os/classifier.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <linux/bpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>
#include <utility>

#include "os/rcu_grace_period.h"
#include "vmq_classify.skel.h"

namespace vmq::os {
namespace {

Result<void> check_filter_map(int map_fd, const FilterTableShape& shape) {
  bpf_map_info info{};
  std::uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(map_fd, &info, &len)) return fail_errno(errno, "reading the filter table's map info");
  if (info.value_size != sizeof(vmq_filter_bucket) || info.max_entries != shape.buckets() ||
      !(info.map_flags & BPF_F_MMAPABLE))
    return fail(Errc::invalid_state, fmt::format("the filter table map has {} entries of {} bytes (flags {:#x}), not {} "
                                                 "mmappable buckets",
                                                 info.max_entries, info.value_size, info.map_flags, shape.buckets()));
  return {};
}

}  // namespace

// The filter table's memory, mapped once the map exists (after load), and
// its writer.
class FilterStore {
 public:
  FilterStore(const FilterTableShape& shape, std::uint32_t max_filters) : shape_(shape), max_filters_(max_filters) {}
  FilterStore(const FilterStore&) = delete;
  FilterStore& operator=(const FilterStore&) = delete;
  ~FilterStore() {
    if (memory_ != MAP_FAILED) ::munmap(memory_, length_);
  }

  const FilterTableShape& shape() const { return shape_; }

  Result<FilterTable*> table(int map_fd) {
    if (table_) return &*table_;
    if (map_fd < 0) return fail(Errc::invalid_state, "the classifier is not loaded: it has no filter table yet");
    if (auto ok = check_filter_map(map_fd, shape_); !ok) return std::unexpected(ok.error());
    length_ = std::size_t{shape_.buckets()} * sizeof(vmq_filter_bucket);
    memory_ = ::mmap(nullptr, length_, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
    if (memory_ == MAP_FAILED) return fail_errno(errno, "mapping the classifier's filter table");
    const std::span buckets(static_cast<vmq_filter_bucket*>(memory_), shape_.buckets());
    auto grace = RcuGracePeriod::create();
    if (!grace) return std::unexpected(grace.error());
    auto readers = std::make_shared<RcuGracePeriod>(std::move(*grace));
    return &table_.emplace(buckets, shape_, max_filters_, [readers] { return readers->wait(); });
  }

 private:
  FilterTableShape shape_;
  std::uint32_t max_filters_;
  void* memory_ = MAP_FAILED;
  std::size_t length_ = 0;
  std::optional<FilterTable> table_;
};

namespace {

// Per-CPU map values are laid out one per possible CPU, each padded to 8 bytes.
template <typename Value>
Result<std::vector<Value>> read_per_cpu(const bpf_map* map, std::uint32_t index) {
  static_assert(sizeof(Value) % 8 == 0);
  const int cpus = libbpf_num_possible_cpus();
  if (cpus < 0) return fail_errno(-cpus, "counting possible CPUs");
  std::vector<Value> values(static_cast<std::size_t>(cpus));
  if (bpf_map__lookup_elem(map, &index, sizeof index, values.data(), values.size() * sizeof(Value), 0))
    return fail_errno(errno, fmt::format("reading {}[{}]", bpf_map__name(map), index));
  return values;
}

template <typename Value>
Result<void> zero_per_cpu(const bpf_map* map, std::uint32_t index) {
  const int cpus = libbpf_num_possible_cpus();
  if (cpus < 0) return fail_errno(-cpus, "counting possible CPUs");
  std::vector<Value> zeros(static_cast<std::size_t>(cpus));
  if (bpf_map__update_elem(map, &index, sizeof index, zeros.data(), zeros.size() * sizeof(Value), 0))
    return fail_errno(errno, fmt::format("zeroing {}[{}]", bpf_map__name(map), index));
  return {};
}

vmq_traffic sum(const std::vector<vmq_traffic>& per_cpu) {
  vmq_traffic total{};
  for (const auto& t : per_cpu) {
    total.packets += t.packets;
    total.bytes += t.bytes;
  }
  return total;
}

std::unexpected<Error> in_context(Error error, std::string_view what) {
  error.message = fmt::format("{}: {}", what, error.message);
  return std::unexpected(std::move(error));
}

Result<void> check_limits(const ClassifierLimits& l) {
  if (l.max_queues < 2 || l.max_queues > VMQ_MAX_QUEUES_LIMIT)
    return fail(Errc::invalid_argument, fmt::format("max queues {} out of range 2..{}", l.max_queues,
                                                    VMQ_MAX_QUEUES_LIMIT));
  if (l.max_filters < 1 || l.max_filters > VMQ_MAX_FILTERS_LIMIT)
    return fail(Errc::invalid_argument, fmt::format("max filters {} out of range 1..{}", l.max_filters,
                                                    VMQ_MAX_FILTERS_LIMIT));
  if (l.rxq_count < 1 || l.rxq_count > VMQ_MAX_RXQ_LIMIT)
    return fail(Errc::invalid_argument, fmt::format("rx queue count {} out of range 1..{}", l.rxq_count,
                                                    VMQ_MAX_RXQ_LIMIT));
  if (l.sub_queue_slots < 1 || l.sub_queue_slots > VMQ_MAX_SUB_QUEUES_LIMIT)
    return fail(Errc::invalid_argument, fmt::format("sub-queues per queue {} out of range 1..{}", l.sub_queue_slots,
                                                    VMQ_MAX_SUB_QUEUES_LIMIT));
  return {};
}

}  // namespace

Result<Classifier> Classifier::open(const ClassifierLimits& limits) { return open_configured(limits, nullptr); }

Result<Classifier> Classifier::load(const ClassifierLimits& limits) {
  auto classifier = open_configured(limits, nullptr);
  if (!classifier) return classifier;
  if (auto ok = classifier->load_opened(); !ok) return std::unexpected(ok.error());
  return classifier;
}

Result<Classifier> Classifier::load_shadow(const Classifier& live) {
  if (!live.loaded()) return fail(Errc::invalid_state, "the live classifier is not loaded");
  ClassifierLimits limits = live.limits_;
  limits.trace = true;
  auto classifier = open_configured(limits, &live);
  if (!classifier) return classifier;
  if (auto ok = classifier->load_opened(); !ok) return std::unexpected(ok.error());
  return classifier;
}

Result<void> Classifier::load_opened() {
  if (int err = vmq_classify__load(skel_)) return fail_errno(-err, "loading the classifier into the kernel");
  return {};
}

Result<Classifier> Classifier::open_configured(const ClassifierLimits& limits, const Classifier* tables) {
  if (auto ok = check_limits(limits); !ok) return std::unexpected(ok.error());
  vmq_classify* skel = vmq_classify__open();
  if (!skel) return fail_errno(errno, "opening the classifier BPF object");
  auto filters = tables ? tables->filters_
                        : std::make_shared<FilterStore>(FilterTableShape::for_filters(limits.max_filters),
                                                        limits.max_filters);
  Classifier classifier(skel, limits, filters);  // owns skel from here on

  const FilterTableShape& shape = filters->shape();
  skel->rodata->rxq_count = limits.rxq_count;
  skel->rodata->sub_queue_slots = limits.sub_queue_slots;
  skel->rodata->max_frame_len = limits.max_frame_len;
  if (auto ok = classifier.choose_build(); !ok) return std::unexpected(ok.error());
  skel->rodata->filter_hash_first = shape.first_multiplier;
  skel->rodata->filter_hash_second = shape.second_multiplier;
  skel->rodata->filter_bucket_shift = shape.shift();
  // The agent writes the table in place (FilterTable), never with syscalls.
  if (int err = bpf_map__set_map_flags(skel->maps.vmq_filters, BPF_F_MMAPABLE))
    return fail_errno(-err, "making the filter table mappable");
  struct Size {
    bpf_map* map;
    std::uint32_t entries;
  };
  const Size sizes[] = {
      {skel->maps.vmq_filters, shape.buckets()},
      {skel->maps.vmq_queues, limits.max_queues},
      {skel->maps.vmq_xsks, limits.max_queues * limits.sub_queue_slots * limits.rxq_count},
      {skel->maps.vmq_queue_stats, limits.max_queues},
      {skel->maps.vmq_filter_stats, limits.max_filters + 1},
  };
  for (const auto& [map, entries] : sizes) {
    if (int err = bpf_map__set_max_entries(map, entries))
      return fail_errno(-err, fmt::format("sizing map {}", bpf_map__name(map)));
  }
  if (tables) {
    const std::pair<bpf_map*, const bpf_map*> shared[] = {
        {skel->maps.vmq_filters, tables->skel_->maps.vmq_filters},
        {skel->maps.vmq_queues, tables->skel_->maps.vmq_queues},
        {skel->maps.vmq_xsks, tables->skel_->maps.vmq_xsks},
    };
    for (const auto& [mine, theirs] : shared) {
      if (int err = bpf_map__reuse_fd(mine, bpf_map__fd(theirs)))
        return fail_errno(-err, fmt::format("sharing map {}", bpf_map__name(mine)));
    }
  }
  return classifier;
}

Classifier::Classifier(vmq_classify* skel, const ClassifierLimits& limits, std::shared_ptr<FilterStore> filters)
    : skel_(skel), limits_(limits), filters_(std::move(filters)) {}

Classifier::Classifier(Classifier&& other) noexcept
    : skel_(std::exchange(other.skel_, nullptr)), limits_(other.limits_), filters_(std::move(other.filters_)) {}

Classifier& Classifier::operator=(Classifier&& other) noexcept {
  if (this != &other) {
    if (skel_) vmq_classify__destroy(skel_);
    skel_ = std::exchange(other.skel_, nullptr);
    limits_ = other.limits_;
    filters_ = std::move(other.filters_);
  }
  return *this;
}

Classifier::~Classifier() {
  if (skel_) vmq_classify__destroy(skel_);
}

bpf_object* Classifier::object() const { return skel_->obj; }

bpf_program* Classifier::program() const {
  if (limits_.trace) return limits_.multi_buffer ? skel_->progs.vmq_trace_mb : skel_->progs.vmq_trace;
  return limits_.multi_buffer ? skel_->progs.vmq_classify_mb : skel_->progs.vmq_classify;
}

// One build of the program is loaded: single- or multi-buffer, live or trace.
Result<void> Classifier::choose_build() {
  bpf_program* const chosen = program();
  for (bpf_program* build : {skel_->progs.vmq_classify, skel_->progs.vmq_classify_mb, skel_->progs.vmq_trace,
                             skel_->progs.vmq_trace_mb}) {
    if (int err = bpf_program__set_autoload(build, build == chosen))
      return fail_errno(-err, "choosing the classifier's build");
  }
  return {};
}

int Classifier::program_fd() const { return bpf_program__fd(program()); }

std::uint32_t Classifier::program_id() const {
  bpf_prog_info info{};
  std::uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(program_fd(), &info, &len)) return 0;
  return info.id;
}

const FilterTableShape& Classifier::filter_table_shape() const { return filters_->shape(); }

Result<FilterTable*> Classifier::filter_table() {
  return filters_->table(bpf_map__fd(skel_->maps.vmq_filters));
}

Result<void> Classifier::put_filter(const vmq_filter_key& key, const vmq_filter_value& value) {
  // Key word 0 (this MAC untagged) marks a free slot; the MAC is refused on
  // every VLAN, as the agent refuses it.
  if (std::all_of(std::begin(key.mac), std::end(key.mac), [](std::uint8_t octet) { return octet == 0; }))
    return fail(Errc::invalid_argument, "MAC 00:00:00:00:00:00 cannot be a filter");
  auto table = filter_table();
  if (!table) return std::unexpected(table.error());
  const std::uint64_t word = filter_key_word(key);
  auto ok = (*table)->find(word) ? (*table)->replace(word, value) : (*table)->insert(word, value);
  if (!ok) return in_context(ok.error(), "writing a filter to the classifier");
  return {};
}

Result<void> Classifier::delete_filter(const vmq_filter_key& key) {
  auto table = filter_table();
  if (!table) return std::unexpected(table.error());
  auto ok = (*table)->erase(filter_key_word(key));
  if (!ok && ok.error().code != Errc::not_found) return in_context(ok.error(), "deleting a filter from the classifier");
  return {};
}

Result<void> Classifier::put_queue(std::uint32_t queue_id, const vmq_queue_entry& entry) {
  if (bpf_map__update_elem(skel_->maps.vmq_queues, &queue_id, sizeof queue_id, &entry, sizeof entry, BPF_ANY))
    return fail_errno(errno, fmt::format("writing queue {} to the classifier", queue_id));
  return {};
}

Result<void> Classifier::put_socket(std::uint32_t slot, int xsk_fd) {
  if (bpf_map__update_elem(skel_->maps.vmq_xsks, &slot, sizeof slot, &xsk_fd, sizeof xsk_fd, BPF_ANY))
    return fail_errno(errno, fmt::format("inserting a socket in XSKMAP slot {}", slot));
  return {};
}

Result<void> Classifier::delete_socket(std::uint32_t slot) {
  if (bpf_map__delete_elem(skel_->maps.vmq_xsks, &slot, sizeof slot, 0) && errno != ENOENT)
    return fail_errno(errno, fmt::format("clearing XSKMAP slot {}", slot));
  return {};
}

Result<vmq_traffic> Classifier::queue_traffic(std::uint32_t queue_id) const {
  auto per_cpu = read_per_cpu<vmq_traffic>(skel_->maps.vmq_queue_stats, queue_id);
  if (!per_cpu) return std::unexpected(per_cpu.error());
  return sum(*per_cpu);
}

Result<std::uint64_t> Classifier::filter_hits(std::uint32_t filter_id) const {
  auto per_cpu = read_per_cpu<vmq_filter_hits>(skel_->maps.vmq_filter_stats, filter_id);
  if (!per_cpu) return std::unexpected(per_cpu.error());
  std::uint64_t total = 0;
  for (const auto& h : *per_cpu) total += h.hits;
  return total;
}

Result<DefaultTraffic> Classifier::default_traffic() const {
  DefaultTraffic out{};
  for (std::uint32_t reason = 0; reason < VMQ_DEFAULT_REASON_COUNT; ++reason) {
    auto per_cpu = read_per_cpu<vmq_traffic>(skel_->maps.vmq_default_stats, reason);
    if (!per_cpu) return std::unexpected(per_cpu.error());
    out[reason] = sum(*per_cpu);
  }
  return out;
}

namespace {

// Every value of an array map, in one BPF_MAP_LOOKUP_BATCH.
template <typename Value>
Result<std::vector<Value>> read_array(const bpf_map* map) {
  const std::uint32_t entries = bpf_map__max_entries(map);
  std::vector<std::uint32_t> keys(entries);
  std::vector<Value> values(entries);
  std::uint32_t count = entries, out_batch = 0;
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  if (bpf_map_lookup_batch(bpf_map__fd(map), nullptr, &out_batch, keys.data(), values.data(), &count, &opts) != 0 &&
      errno != ENOENT)  // ENOENT: the batch reached the end of the map
    return fail_errno(errno, fmt::format("reading map {}", bpf_map__name(map)));
  values.resize(count);
  return values;
}

}  // namespace

Result<TableEntries> Classifier::table_entries() const {
  auto buckets = read_array<vmq_filter_bucket>(skel_->maps.vmq_filters);
  if (!buckets) return std::unexpected(buckets.error());
  auto queues = read_array<vmq_queue_entry>(skel_->maps.vmq_queues);
  if (!queues) return std::unexpected(queues.error());
  TableEntries entries;
  for (const auto& bucket : *buckets)
    for (const auto& slot : bucket.slot) entries.filters += slot.key != VMQ_FILTER_KEY_FREE;
  for (const auto& queue : *queues) entries.queues += queue.state != VMQ_QUEUE_UNDEFINED;
  return entries;
}

Result<void> Classifier::reset_queue_traffic(std::uint32_t queue_id) {
  return zero_per_cpu<vmq_traffic>(skel_->maps.vmq_queue_stats, queue_id);
}

Result<void> Classifier::reset_filter_hits(std::uint32_t filter_id) {
  return zero_per_cpu<vmq_filter_hits>(skel_->maps.vmq_filter_stats, filter_id);
}

Result<TestRunResult> Classifier::test_run(std::span<const std::uint8_t> frame, std::uint32_t ifindex,
                                           std::uint32_t rxq, std::uint32_t repeat) const {
  // The kernel refuses test input shorter than an Ethernet header. A runt
  // frame is run behind XDP metadata, which the program cannot see, so it
  // gets exactly the runt bytes.
  constexpr std::size_t eth_hlen = 14;
  const std::size_t meta_len = frame.size() < eth_hlen ? (eth_hlen - frame.size() + 3) / 4 * 4 : 0;
  const std::vector<std::uint8_t> metadata(meta_len, 0);
  return run_xdp_test(program_fd(), XdpTestRun{frame, metadata, ifindex, rxq, repeat});
}

Result<TracedRun> Classifier::trace_run(std::span<const std::uint8_t> frame, std::uint32_t ifindex,
                                        std::uint32_t rxq) const {
  const std::uint32_t index = 0;
  const vmq_trace_record cleared{};
  if (bpf_map__update_elem(skel_->maps.vmq_decision, &index, sizeof index, &cleared, sizeof cleared, BPF_ANY))
    return fail_errno(errno, "clearing the classifier's trace record");
  auto run = test_run(frame, ifindex, rxq);
  if (!run) return std::unexpected(run.error());
  TracedRun traced{run->action, std::move(run->frame), {}};
  if (bpf_map__lookup_elem(skel_->maps.vmq_decision, &index, sizeof index, &traced.record, sizeof traced.record, 0))
    return fail_errno(errno, "reading the classifier's trace record");
  if (!traced.record.decided)
    return fail(Errc::invalid_state, "this classifier build does not record its decisions (only the trace build does)");
  return traced;
}

}  // namespace vmq::os
