#include "experiments/experiment_tables.h"

#include <bpf/bpf.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "experiments/exp_layout.h"

namespace vmq::bench {
namespace {

static_assert(sizeof(exp_filter_value) == 8);
static_assert(EXP_BUCKET_SLOTS == 4);

std::uint64_t as_word(const auto& value) {
  static_assert(sizeof value == sizeof(std::uint64_t));
  std::uint64_t word = 0;
  std::memcpy(&word, &value, sizeof word);
  return word;
}

std::uint32_t first_bucket(std::uint64_t key) {
  return static_cast<std::uint32_t>((key * EXP_HASH_FIRST) >> (64 - EXP_BUCKET_BITS));
}

std::uint32_t second_bucket(std::uint64_t key) {
  return static_cast<std::uint32_t>((key * EXP_HASH_SECOND) >> (64 - EXP_BUCKET_BITS));
}

Result<void> update(int map_fd, const void* key, const void* value, std::string_view what) {
  if (bpf_map_update_elem(map_fd, key, value, BPF_ANY)) return fail_errno(errno, fmt::format("writing {}", what));
  return {};
}

}  // namespace

Result<BenchObject> load_experiment(const ExperimentVariant& variant) {
  LoadOptions options;
  options.map_sizes = {{"vmq_queues", kMaxQueues},
                       {"vmq_xsks", kMaxQueues},
                       {"vmq_queue_stats", kMaxQueues},
                       {"vmq_filter_stats", kMaxFilters + 1}};
  if (!variant.has("EXP_BUCKET_TABLE")) options.map_sizes.emplace_back("vmq_filters", kMaxFilters);
  return BenchObject::load(fmt::format("vmq_exp_{}", variant.name), variant.elf_bytes, options);
}

ExperimentTables::ExperimentTables(const BenchObject& object, const ExperimentVariant& variant)
    : object_(object),
      queue_in_filter_(variant.has("EXP_QUEUE_IN_FILTER")),
      bucket_table_(variant.has("EXP_BUCKET_TABLE")) {
  if (bucket_table_) buckets_.assign(EXP_BUCKETS, Bucket{Slot{EXP_FREE_SLOT, 0}, {EXP_FREE_SLOT, 0},
                                                           {EXP_FREE_SLOT, 0}, {EXP_FREE_SLOT, 0}});
}

Result<int> ExperimentTables::map(std::string_view name) const { return object_.map_fd(name); }

Result<void> ExperimentTables::put_queue(std::uint32_t queue_id, const vmq_queue_entry& entry) {
  queues_[queue_id] = entry;
  auto fd = map("vmq_queues");
  if (!fd) return std::unexpected(fd.error());
  return update(*fd, &queue_id, &entry, fmt::format("queue {}", queue_id));
}

Result<void> ExperimentTables::put_socket(std::uint32_t queue_id, int xsk_fd) {
  auto fd = map("vmq_xsks");
  if (!fd) return std::unexpected(fd.error());
  return update(*fd, &queue_id, &xsk_fd, fmt::format("XSKMAP slot {}", queue_id));
}

std::uint64_t ExperimentTables::filter_value(const FilterSpec& filter) const {
  if (!queue_in_filter_) return as_word(vmq_filter_value{filter.queue_id, filter.filter_id});
  const auto queue = queues_.find(filter.queue_id);
  const vmq_queue_entry entry = queue == queues_.end() ? vmq_queue_entry{} : queue->second;
  return as_word(exp_filter_value{filter.filter_id, static_cast<std::uint16_t>(filter.queue_id),
                                  static_cast<std::uint8_t>(entry.state), static_cast<std::uint8_t>(entry.vlan_mode)});
}

Result<void> ExperimentTables::put_filter(const FilterSpec& filter) {
  if (bucket_table_) return put_in_bucket_table(filter);
  auto fd = map("vmq_filters");
  if (!fd) return std::unexpected(fd.error());
  const std::uint64_t value = filter_value(filter);
  return update(*fd, &filter.key, &value, fmt::format("filter {}", filter.filter_id));
}

std::ptrdiff_t ExperimentTables::free_slots(const Bucket& bucket) {
  return std::count_if(bucket.begin(), bucket.end(), [](const Slot& s) { return s.key == EXP_FREE_SLOT; });
}

// Cuckoo insertion: the emptier of the key's two buckets; when both are
// full, the new slot takes a resident's place and the resident moves to its
// other bucket, and so on.
Result<void> ExperimentTables::put_in_bucket_table(const FilterSpec& filter) {
  constexpr int kMaxMoves = 500;
  Slot moving{as_word(filter.key), filter_value(filter)};
  std::uint32_t index = free_slots(buckets_[second_bucket(moving.key)]) > free_slots(buckets_[first_bucket(moving.key)])
                            ? second_bucket(moving.key)
                            : first_bucket(moving.key);
  for (int move = 0; move < kMaxMoves; ++move) {
    Bucket& bucket = buckets_[index];
    auto free = std::find_if(bucket.begin(), bucket.end(), [](const Slot& s) { return s.key == EXP_FREE_SLOT; });
    if (free != bucket.end()) {
      *free = moving;
      return {};
    }
    std::swap(moving, bucket[static_cast<std::size_t>(move) % bucket.size()]);
    index = first_bucket(moving.key) == index ? second_bucket(moving.key) : first_bucket(moving.key);
  }
  return fail(Errc::limit_reached, fmt::format("no room for filter {} in the bucket table", filter.filter_id));
}

Result<void> ExperimentTables::commit() {
  if (!bucket_table_) return {};
  auto fd = map("vmq_filters");
  if (!fd) return std::unexpected(fd.error());
  for (std::uint32_t index = 0; index < buckets_.size(); ++index) {
    if (auto ok = update(*fd, &index, buckets_[index].data(), fmt::format("bucket {}", index)); !ok) return ok;
  }
  return {};
}

}  // namespace vmq::bench
