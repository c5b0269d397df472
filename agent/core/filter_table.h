// The classifier's filter table (vmq/abi.h, "The filter table") as its one
// writer sees it: cuckoo placement of {key word, value} slots in buckets of
// four, over a span of buckets that is the mmapped BPF map in production and
// a plain vector in tests. Every store follows the lock-free protocol of
// vmq/abi.h, so the XDP classifier may read the table at any time. No system
// calls: waiting for readers is the caller's callback.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "vmq/abi.h"

namespace vmq {

// How many buckets and which hashes: the classifier's .rodata holds the same.
struct FilterTableShape {
  std::uint32_t bucket_bits = 1;  // 1..31
  std::uint64_t first_multiplier = VMQ_FILTER_HASH_FIRST;
  std::uint64_t second_multiplier = VMQ_FILTER_HASH_SECOND;

  // The smallest table with two slots per filter (at most half full), at
  // least two buckets.
  static FilterTableShape for_filters(std::uint32_t max_filters);

  std::uint32_t buckets() const { return std::uint32_t{1} << bucket_bits; }
  std::uint32_t shift() const { return 64 - bucket_bits; }
  std::uint32_t first_bucket(std::uint64_t key) const { return vmq_filter_bucket_index(key, first_multiplier, shift()); }
  std::uint32_t second_bucket(std::uint64_t key) const { return vmq_filter_bucket_index(key, second_multiplier, shift()); }
};

// vmq_filter_key_word(): 0 only for MAC 00:00:00:00:00:00 untagged.
std::uint64_t filter_key_word(const vmq_filter_key& key);

class FilterTable {
 public:
  // Returns once every lookup that may have been running when it was called
  // has ended (for the XDP classifier: an RCU grace period).
  using WaitForReaders = std::function<Result<void>()>;

  // Longest displacement path an insert tries: moves of resident keys.
  static constexpr int kMaxMoves = 5;

  // `buckets` holds shape.buckets() buckets, all free or written by a
  // FilterTable of the same shape; `max_filters` is at most the slot count.
  FilterTable(std::span<vmq_filter_bucket> buckets, const FilterTableShape& shape, std::uint32_t max_filters,
              WaitForReaders wait_for_readers);

  // Adds a key that is not in the table. Errors: invalid_argument (key 0),
  // conflict (already there), limit_reached (max_filters reached, or no
  // displacement path of at most kMaxMoves moves), or the error of a failed
  // wait for readers: the table is then unchanged.
  Result<void> insert(std::uint64_t key, const vmq_filter_value& value);
  // Gives a key in the table a new value (not_found otherwise).
  Result<void> replace(std::uint64_t key, const vmq_filter_value& value);
  // Removes a key (not_found if absent).
  Result<void> erase(std::uint64_t key);
  std::optional<vmq_filter_value> find(std::uint64_t key) const;

  std::uint32_t size() const { return size_; }
  std::uint32_t max_filters() const { return max_filters_; }
  const FilterTableShape& shape() const { return shape_; }
  // How often the table waited for readers so far.
  std::uint64_t reader_waits() const { return reader_waits_; }

 private:
  // A slot's place: bucket * VMQ_FILTER_BUCKET_SLOTS + slot in the bucket.
  using SlotIndex = std::uint32_t;
  // A displacement path: the new key goes to slots[0], the key in slots[i]
  // moves to slots[i + 1], the last slot is free.
  struct Path {
    std::vector<SlotIndex> slots;
  };

  vmq_filter_slot& slot(SlotIndex index) const;
  std::uint64_t key_at(SlotIndex index) const;
  std::optional<SlotIndex> locate(std::uint64_t key) const;
  std::uint32_t other_bucket(std::uint64_t key, std::uint32_t bucket) const;
  std::optional<SlotIndex> free_slot_for(std::uint32_t bucket, std::uint64_t incoming) const;
  std::optional<Path> find_path(std::uint64_t key) const;
  bool path_needs_wait(const Path& path, std::uint64_t key) const;
  void run_path(const Path& path, std::uint64_t key, const vmq_filter_value& value);
  void fill(SlotIndex index, std::uint64_t key, const vmq_filter_value& value);
  void clear(SlotIndex index);

  // The ABA guard of vmq/abi.h: the keys each slot held since the last wait
  // for readers, in order.
  bool needs_wait(SlotIndex index, std::uint64_t incoming) const;
  void note_key(SlotIndex index, std::uint64_t key);
  Result<void> wait_for_readers();

  std::span<vmq_filter_bucket> buckets_;
  FilterTableShape shape_;
  std::uint32_t max_filters_;
  WaitForReaders wait_for_readers_;
  std::uint32_t size_ = 0;
  std::uint64_t reader_waits_ = 0;
  std::unordered_map<SlotIndex, std::vector<std::uint64_t>> held_since_wait_;
  std::size_t held_entries_ = 0;
};

}  // namespace vmq
