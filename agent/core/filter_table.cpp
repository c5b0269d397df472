#include "core/filter_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <unordered_set>
#include <utility>

namespace vmq {
namespace {

constexpr std::uint32_t kSlots = VMQ_FILTER_BUCKET_SLOTS;

// Every access to a slot is atomic: the classifier reads the table while the
// agent writes it. Release stores keep the writer's order for the compiler
// (x86 keeps it in hardware); the writer's own loads need no order.
std::uint64_t load_key(vmq_filter_slot& slot) {
  return std::atomic_ref<__u64>(slot.key).load(std::memory_order_relaxed);
}

vmq_filter_value load_value(vmq_filter_slot& slot) {
  return std::atomic_ref<vmq_filter_value>(slot.value).load(std::memory_order_relaxed);
}

void store_key(vmq_filter_slot& slot, std::uint64_t key) {
  std::atomic_ref<__u64>(slot.key).store(key, std::memory_order_release);
}

void store_value(vmq_filter_slot& slot, const vmq_filter_value& value) {
  std::atomic_ref<vmq_filter_value>(slot.value).store(value, std::memory_order_release);
}

static_assert(std::atomic_ref<vmq_filter_value>::is_always_lock_free, "a value is stored with one 8-byte store");
static_assert(std::atomic_ref<vmq_filter_value>::required_alignment <= alignof(vmq_filter_slot));

std::uint32_t slot_count(std::span<vmq_filter_bucket> buckets) {
  return static_cast<std::uint32_t>(buckets.size()) * kSlots;
}

}  // namespace

FilterTableShape FilterTableShape::for_filters(std::uint32_t max_filters) {
  const std::uint64_t slots = 2 * std::uint64_t{std::max(max_filters, 1u)};
  const std::uint64_t buckets = (slots + kSlots - 1) / kSlots;
  FilterTableShape shape;
  shape.bucket_bits = std::max(1u, static_cast<std::uint32_t>(std::bit_width(buckets - 1)));
  return shape;
}

std::uint64_t filter_key_word(const vmq_filter_key& key) { return vmq_filter_key_word(&key); }

FilterTable::FilterTable(std::span<vmq_filter_bucket> buckets, const FilterTableShape& shape,
                         std::uint32_t max_filters, WaitForReaders wait_for_readers)
    : buckets_(buckets),
      shape_(shape),
      max_filters_(std::min(max_filters, slot_count(buckets))),
      wait_for_readers_(std::move(wait_for_readers)) {
  for (SlotIndex index = 0; index < slot_count(buckets_); ++index) {
    if (key_at(index) != VMQ_FILTER_KEY_FREE) ++size_;
  }
}

Result<void> FilterTable::insert(std::uint64_t key, const vmq_filter_value& value) {
  if (key == VMQ_FILTER_KEY_FREE) return fail(Errc::invalid_argument, "key word 0 marks a free slot");
  if (locate(key)) return fail(Errc::conflict, fmt::format("key {:#x} is already in the filter table", key));
  if (size_ >= max_filters_)
    return fail(Errc::limit_reached, fmt::format("the filter table holds its maximum of {} filters", max_filters_));
  // The guard's memory stays bounded: a wait forgets every slot's history.
  if (held_entries_ >= slot_count(buckets_)) {
    if (auto ok = wait_for_readers(); !ok) return ok;
  }
  const auto path = find_path(key);
  if (!path)
    return fail(Errc::limit_reached, fmt::format("no room for key {:#x}: both buckets full and no displacement "
                                                 "path of at most {} moves",
                                                 key, kMaxMoves));
  if (path_needs_wait(*path, key)) {
    if (auto ok = wait_for_readers(); !ok) return ok;
  }
  run_path(*path, key, value);
  ++size_;
  return {};
}

Result<void> FilterTable::replace(std::uint64_t key, const vmq_filter_value& value) {
  const auto index = locate(key);
  if (!index) return fail(Errc::not_found, fmt::format("key {:#x} is not in the filter table", key));
  store_value(slot(*index), value);
  return {};
}

Result<void> FilterTable::erase(std::uint64_t key) {
  const auto index = locate(key);
  if (!index) return fail(Errc::not_found, fmt::format("key {:#x} is not in the filter table", key));
  clear(*index);
  --size_;
  return {};
}

std::optional<vmq_filter_value> FilterTable::find(std::uint64_t key) const {
  const auto index = locate(key);
  if (!index) return std::nullopt;
  return load_value(slot(*index));
}

vmq_filter_slot& FilterTable::slot(SlotIndex index) const { return buckets_[index / kSlots].slot[index % kSlots]; }

std::uint64_t FilterTable::key_at(SlotIndex index) const { return load_key(slot(index)); }

std::optional<FilterTable::SlotIndex> FilterTable::locate(std::uint64_t key) const {
  if (key == VMQ_FILTER_KEY_FREE) return std::nullopt;
  for (std::uint32_t bucket : {shape_.first_bucket(key), shape_.second_bucket(key)}) {
    for (SlotIndex index = bucket * kSlots; index < (bucket + 1) * kSlots; ++index) {
      if (key_at(index) == key) return index;
    }
  }
  return std::nullopt;
}

std::uint32_t FilterTable::other_bucket(std::uint64_t key, std::uint32_t bucket) const {
  const std::uint32_t first = shape_.first_bucket(key);
  return first == bucket ? shape_.second_bucket(key) : first;
}

// A free slot of `bucket`, preferably one `incoming` can take without a wait.
std::optional<FilterTable::SlotIndex> FilterTable::free_slot_for(std::uint32_t bucket, std::uint64_t incoming) const {
  std::optional<SlotIndex> any;
  for (SlotIndex index = bucket * kSlots; index < (bucket + 1) * kSlots; ++index) {
    if (key_at(index) != VMQ_FILTER_KEY_FREE) continue;
    if (!needs_wait(index, incoming)) return index;
    if (!any) any = index;
  }
  return any;
}

// Breadth first from the key's two buckets, so the path found is a shortest
// one: fewest moves, fewest stores a reader can run into.
std::optional<FilterTable::Path> FilterTable::find_path(std::uint64_t key) const {
  constexpr std::size_t kRoot = SIZE_MAX;
  struct Node {
    std::uint32_t bucket;
    std::size_t parent;  // index in `nodes`, kRoot for the key's own buckets
    SlotIndex via;       // the slot of the parent's bucket whose key moves here
    int moves;
  };
  std::vector<Node> nodes;
  std::unordered_set<std::uint32_t> seen;
  for (std::uint32_t bucket : {shape_.first_bucket(key), shape_.second_bucket(key)}) {
    if (seen.insert(bucket).second) nodes.push_back({bucket, kRoot, 0, 0});
  }
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const Node node = nodes[i];
    const std::uint64_t incoming = node.parent == kRoot ? key : key_at(node.via);
    if (const auto free = free_slot_for(node.bucket, incoming)) {
      Path path{{*free}};
      for (std::size_t at = i; nodes[at].parent != kRoot; at = nodes[at].parent) path.slots.push_back(nodes[at].via);
      std::reverse(path.slots.begin(), path.slots.end());
      return path;
    }
    if (node.moves == kMaxMoves) continue;
    for (SlotIndex index = node.bucket * kSlots; index < (node.bucket + 1) * kSlots; ++index) {
      const std::uint32_t next = other_bucket(key_at(index), node.bucket);
      if (next == node.bucket || !seen.insert(next).second) continue;
      nodes.push_back({next, i, index, node.moves + 1});
    }
  }
  return std::nullopt;
}

bool FilterTable::path_needs_wait(const Path& path, std::uint64_t key) const {
  for (std::size_t i = 0; i < path.slots.size(); ++i) {
    const std::uint64_t incoming = i == 0 ? key : key_at(path.slots[i - 1]);
    if (needs_wait(path.slots[i], incoming)) return true;
  }
  return false;
}

// From the free end backwards: each key is copied to its other bucket before
// its old slot is cleared for the key behind it, so no key ever leaves the
// table.
void FilterTable::run_path(const Path& path, std::uint64_t key, const vmq_filter_value& value) {
  for (std::size_t to = path.slots.size() - 1; to > 0; --to) {
    const SlotIndex from = path.slots[to - 1];
    fill(path.slots[to], key_at(from), load_value(slot(from)));
    clear(from);
  }
  fill(path.slots.front(), key, value);
}

void FilterTable::fill(SlotIndex index, std::uint64_t key, const vmq_filter_value& value) {
  note_key(index, key);
  vmq_filter_slot& target = slot(index);
  store_value(target, value);
  store_key(target, key);
}

void FilterTable::clear(SlotIndex index) {
  note_key(index, key_at(index));
  store_key(slot(index), VMQ_FILTER_KEY_FREE);
}

// Storing `incoming` is the end of an ABA (K, ..., K', ..., K) when the slot
// held `incoming` since the last wait and another key after it, or holds one
// now.
bool FilterTable::needs_wait(SlotIndex index, std::uint64_t incoming) const {
  const auto held = held_since_wait_.find(index);
  if (held == held_since_wait_.end()) return false;
  const auto& keys = held->second;
  if (std::find(keys.begin(), keys.end(), incoming) == keys.end()) return false;
  const std::uint64_t current = key_at(index);
  const std::uint64_t last = current != VMQ_FILTER_KEY_FREE ? current : keys.back();
  return last != incoming;
}

void FilterTable::note_key(SlotIndex index, std::uint64_t key) {
  if (key == VMQ_FILTER_KEY_FREE) return;
  auto& keys = held_since_wait_[index];
  if (!keys.empty() && keys.back() == key) return;
  keys.push_back(key);
  ++held_entries_;
}

Result<void> FilterTable::wait_for_readers() {
  if (auto ok = wait_for_readers_(); !ok) return ok;
  ++reader_waits_;
  held_since_wait_.clear();
  held_entries_ = 0;
  return {};
}

}  // namespace vmq
