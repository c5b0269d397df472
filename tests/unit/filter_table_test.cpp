// The filter table's writer (agent/core/filter_table.h) over a plain vector:
// placement, displacement, deletion, refusals, and readers running the
// classifier's lookup protocol while the writer churns.
#include "core/filter_table.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <vector>

namespace vmq {
namespace {

using Buckets = std::vector<vmq_filter_bucket>;

FilterTable::WaitForReaders no_readers() {
  return [] { return Result<void>{}; };
}

// A random unicast MAC with VLAN 0..4094, as the agent accepts them.
std::uint64_t random_key(std::mt19937_64& rng) {
  vmq_filter_key key{};
  const std::uint64_t bits = rng();
  std::memcpy(key.mac, &bits, sizeof key.mac);
  key.mac[0] = static_cast<std::uint8_t>((key.mac[0] & 0xfe) | 0x02);  // unicast, never all zero
  key.vlan = static_cast<std::uint16_t>(rng() % (VMQ_VLAN_MAX + 1));
  return filter_key_word(key);
}

std::vector<std::uint64_t> distinct_random_keys(std::mt19937_64& rng, std::size_t count) {
  std::set<std::uint64_t> keys;
  while (keys.size() < count) keys.insert(random_key(rng));
  std::vector<std::uint64_t> out(keys.begin(), keys.end());
  std::shuffle(out.begin(), out.end(), rng);
  return out;
}

// The benchmark's filters: MAC 52:54:00:<i>, VLAN 1 + i % 4094.
std::vector<std::uint64_t> sequential_keys(std::uint32_t count) {
  std::vector<std::uint64_t> keys;
  for (std::uint32_t i = 0; i < count; ++i) {
    vmq_filter_key key{{0x52, 0x54, 0x00, static_cast<std::uint8_t>(i >> 16), static_cast<std::uint8_t>(i >> 8),
                        static_cast<std::uint8_t>(i)},
                       static_cast<std::uint16_t>(VMQ_VLAN_MIN + i % VMQ_VLAN_MAX)};
    keys.push_back(filter_key_word(key));
  }
  return keys;
}

vmq_filter_value value_for(std::uint64_t key) {
  return {static_cast<std::uint32_t>(key), static_cast<std::uint32_t>(key >> 32)};
}

bool same_value(const vmq_filter_value& a, const vmq_filter_value& b) {
  return a.queue_id == b.queue_id && a.filter_id == b.filter_id;
}

bool same_bytes(const Buckets& a, const Buckets& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(vmq_filter_bucket)) == 0;
}

// A table and the map it must behave like.
class Model {
 public:
  Model(const FilterTableShape& shape, std::uint32_t max_filters,
        FilterTable::WaitForReaders wait = no_readers())
      : buckets_(shape.buckets()), table_(buckets_, shape, max_filters, std::move(wait)) {}

  FilterTable& table() { return table_; }
  const Buckets& buckets() const { return buckets_; }
  const std::map<std::uint64_t, vmq_filter_value>& expected() const { return expected_; }

  Result<void> insert(std::uint64_t key, const vmq_filter_value& value) {
    auto ok = table_.insert(key, value);
    if (ok) expected_[key] = value;
    return ok;
  }
  Result<void> erase(std::uint64_t key) {
    auto ok = table_.erase(key);
    if (ok) expected_.erase(key);
    return ok;
  }
  Result<void> replace(std::uint64_t key, const vmq_filter_value& value) {
    auto ok = table_.replace(key, value);
    if (ok) expected_[key] = value;
    return ok;
  }

  // Every expected key found with its value, `absent` not found, and the
  // slots hold exactly the expected keys, each in one of its two buckets.
  void check(std::span<const std::uint64_t> absent = {}) const {
    ASSERT_EQ(table_.size(), expected_.size());
    for (const auto& [key, value] : expected_) {
      const auto found = table_.find(key);
      ASSERT_TRUE(found) << std::hex << "key " << key << " lost";
      ASSERT_TRUE(same_value(*found, value)) << std::hex << "key " << key;
    }
    for (std::uint64_t key : absent) {
      if (expected_.contains(key)) continue;
      ASSERT_FALSE(table_.find(key)) << std::hex << "key " << key;
    }
    check_slots();
  }

 private:
  void check_slots() const {
    const auto& shape = table_.shape();
    std::set<std::uint64_t> stored;
    for (std::uint32_t b = 0; b < buckets_.size(); ++b) {
      for (const auto& slot : buckets_[b].slot) {
        if (slot.key == VMQ_FILTER_KEY_FREE) continue;
        ASSERT_TRUE(stored.insert(slot.key).second) << std::hex << "key " << slot.key << " stored twice";
        ASSERT_TRUE(b == shape.first_bucket(slot.key) || b == shape.second_bucket(slot.key))
            << std::hex << "key " << slot.key << " in a bucket of another key";
      }
    }
    ASSERT_EQ(stored.size(), expected_.size());
  }

  Buckets buckets_;
  FilterTable table_;
  std::map<std::uint64_t, vmq_filter_value> expected_;
};

// Keys whose two buckets are both `bucket`.
std::vector<std::uint64_t> keys_with_one_bucket(const FilterTableShape& shape, std::uint32_t bucket,
                                                std::size_t count) {
  std::mt19937_64 rng(7);
  std::vector<std::uint64_t> keys;
  while (keys.size() < count) {
    const std::uint64_t key = random_key(rng);
    if (shape.first_bucket(key) == bucket && shape.second_bucket(key) == bucket) keys.push_back(key);
  }
  return keys;
}

// Keys whose first bucket is `bucket` and whose second is another one.
std::vector<std::uint64_t> keys_first_in(const FilterTableShape& shape, std::uint32_t bucket, std::size_t count) {
  std::mt19937_64 rng(11);
  std::vector<std::uint64_t> keys;
  while (keys.size() < count) {
    const std::uint64_t key = random_key(rng);
    if (shape.first_bucket(key) == bucket && shape.second_bucket(key) != bucket) keys.push_back(key);
  }
  return keys;
}

TEST(FilterTableShape, TwoSlotsPerFilterInAPowerOfTwoOfBuckets) {
  for (std::uint32_t max_filters : {1u, 2u, 3u, 64u, 1000u, 1024u, 1025u, 65536u}) {
    SCOPED_TRACE(max_filters);
    const auto shape = FilterTableShape::for_filters(max_filters);
    EXPECT_GE(shape.buckets(), 2u);
    EXPECT_GE(shape.buckets() * VMQ_FILTER_BUCKET_SLOTS, 2 * max_filters);
    EXPECT_LT(shape.buckets() / 2 * VMQ_FILTER_BUCKET_SLOTS, std::max(2 * max_filters, 5u));
    EXPECT_EQ(shape.shift(), 64 - shape.bucket_bits);
  }
  EXPECT_EQ(FilterTableShape::for_filters(65536).buckets(), 32768u);
  EXPECT_EQ(FilterTableShape::for_filters(1024).buckets(), 512u);
}

TEST(FilterKeyWord, IsTheFrameBytesTheClassifierLoads) {
  const vmq_filter_key key{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}, 100};
  EXPECT_EQ(filter_key_word(key), 0x0064'5634'1200'5452u);
  // The classifier: a 4-byte and a 2-byte little-endian load of the frame,
  // the VLAN above them.
  const std::uint8_t frame[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  std::uint32_t low = 0;
  std::uint16_t high = 0;
  std::memcpy(&low, frame, sizeof low);
  std::memcpy(&high, frame + 4, sizeof high);
  EXPECT_EQ(filter_key_word(key), std::uint64_t{low} | std::uint64_t{high} << 32 | std::uint64_t{key.vlan} << 48);
  EXPECT_EQ(filter_key_word(vmq_filter_key{{0, 0, 0, 0, 0, 0}, VMQ_VLAN_UNTAGGED_OR_ZERO}), VMQ_FILTER_KEY_FREE);
}

TEST(FilterTableShape, BucketsAreTheAbiHashes) {
  const auto shape = FilterTableShape::for_filters(65536);
  std::mt19937_64 rng(3);
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t key = random_key(rng);
    EXPECT_EQ(shape.first_bucket(key), (key * VMQ_FILTER_HASH_FIRST) >> 49);
    EXPECT_EQ(shape.second_bucket(key), (key * VMQ_FILTER_HASH_SECOND) >> 49);
  }
}

TEST(FilterTable, FillsToMaxFiltersWithRandomKeysThenRefusesWithoutChange) {
  constexpr std::uint32_t kMax = VMQ_MAX_FILTERS_LIMIT;
  std::mt19937_64 rng(1);
  const auto keys = distinct_random_keys(rng, kMax + 1);
  Model model(FilterTableShape::for_filters(kMax), kMax);
  for (std::uint32_t i = 0; i < kMax; ++i) {
    auto ok = model.insert(keys[i], value_for(keys[i]));
    ASSERT_TRUE(ok) << "filter " << i << ": " << ok.error().message;
    if (i % 4096 == 0) model.check(std::span(keys).subspan(i + 1, 16));
  }
  model.check(std::span(keys).subspan(kMax));

  const Buckets before = model.buckets();
  auto refused = model.insert(keys[kMax], value_for(keys[kMax]));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::limit_reached);
  EXPECT_TRUE(same_bytes(before, model.buckets()));
}

TEST(FilterTable, FillsToMaxFiltersWithSequentialKeys) {
  constexpr std::uint32_t kMax = VMQ_MAX_FILTERS_LIMIT;
  const auto keys = sequential_keys(kMax);
  Model model(FilterTableShape::for_filters(kMax), kMax);
  for (std::uint32_t i = 0; i < kMax; ++i) {
    auto ok = model.insert(keys[i], value_for(keys[i]));
    ASSERT_TRUE(ok) << "filter " << i << ": " << ok.error().message;
  }
  model.check();
}

TEST(FilterTable, EveryKeyIsFoundAfterEveryOperationOfAChurn) {
  constexpr std::uint32_t kMax = 256;
  std::mt19937_64 rng(2);
  const auto pool = distinct_random_keys(rng, 2 * kMax);
  Model model(FilterTableShape::for_filters(kMax), kMax);
  for (int op = 0; op < 20'000; ++op) {
    const std::uint64_t key = pool[rng() % pool.size()];
    const bool present = model.expected().contains(key);
    if (!present && model.expected().size() < kMax) {
      ASSERT_TRUE(model.insert(key, value_for(key + static_cast<std::uint64_t>(op))));
    } else if (present && rng() % 4 == 0) {
      ASSERT_TRUE(model.replace(key, value_for(key ^ static_cast<std::uint64_t>(op))));
    } else if (present) {
      ASSERT_TRUE(model.erase(key));
    }
    ASSERT_NO_FATAL_FAILURE(model.check(std::span(pool).subspan(0, 64))) << "after operation " << op;
  }
}

TEST(FilterTable, ChurnAtFullLoadKeepsEveryKey) {
  constexpr std::uint32_t kMax = 4096;
  std::mt19937_64 rng(4);
  auto keys = distinct_random_keys(rng, kMax);
  Model model(FilterTableShape::for_filters(kMax), kMax);
  for (std::uint64_t key : keys) ASSERT_TRUE(model.insert(key, value_for(key)));
  for (int round = 0; round < 20'000; ++round) {
    const std::size_t victim = rng() % keys.size();
    ASSERT_TRUE(model.erase(keys[victim]));
    keys[victim] = random_key(rng);
    while (model.expected().contains(keys[victim])) keys[victim] = random_key(rng);
    ASSERT_TRUE(model.insert(keys[victim], value_for(keys[victim])));
  }
  model.check();
}

TEST(FilterTable, RefusesADuplicateKeyWithoutChange) {
  Model model(FilterTableShape::for_filters(16), 16);
  const vmq_filter_key mac_key{{0x52, 0x54, 0, 0, 0, 1}, 5};
  const std::uint64_t key = filter_key_word(mac_key);
  ASSERT_TRUE(model.insert(key, {1, 1}));
  const Buckets before = model.buckets();
  auto refused = model.table().insert(key, {2, 2});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::conflict);
  EXPECT_TRUE(same_bytes(before, model.buckets()));
  EXPECT_TRUE(same_value(*model.table().find(key), {1, 1}));
}

TEST(FilterTable, RefusesKeyZero) {
  Model model(FilterTableShape::for_filters(16), 16);
  auto refused = model.table().insert(VMQ_FILTER_KEY_FREE, {1, 1});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::invalid_argument);
  EXPECT_FALSE(model.table().find(VMQ_FILTER_KEY_FREE));
}

TEST(FilterTable, ReplaceAndEraseOfAnAbsentKeyAreNotFound) {
  Model model(FilterTableShape::for_filters(16), 16);
  EXPECT_EQ(model.table().erase(0x1234).error().code, Errc::not_found);
  EXPECT_EQ(model.table().replace(0x1234, {1, 1}).error().code, Errc::not_found);
}

TEST(FilterTable, ReplaceChangesTheValueInPlace) {
  Model model(FilterTableShape::for_filters(16), 16);
  ASSERT_TRUE(model.insert(0x1234, {1, 1}));
  ASSERT_TRUE(model.replace(0x1234, {7, 9}));
  model.check();
  EXPECT_EQ(model.table().size(), 1u);
}

TEST(FilterTable, MovesResidentsToTheirOtherBucket) {
  const auto shape = FilterTableShape::for_filters(64);
  Model model(shape, 64);
  // Fill bucket 0 with keys that can live elsewhere, then add one more key
  // whose both buckets are bucket 0: a resident must move out.
  for (std::uint64_t key : keys_first_in(shape, 0, VMQ_FILTER_BUCKET_SLOTS)) ASSERT_TRUE(model.insert(key, value_for(key)));
  const std::uint64_t squeezed = keys_with_one_bucket(shape, 0, 1).front();
  ASSERT_TRUE(model.insert(squeezed, value_for(squeezed)));
  model.check();
}

TEST(FilterTable, RefusesWhenNoDisplacementPathExistsWithoutChange) {
  const auto shape = FilterTableShape::for_filters(64);
  const auto crowd = keys_with_one_bucket(shape, 3, VMQ_FILTER_BUCKET_SLOTS + 1);
  Model model(shape, 64);
  for (std::size_t i = 0; i < VMQ_FILTER_BUCKET_SLOTS; ++i) ASSERT_TRUE(model.insert(crowd[i], value_for(crowd[i])));
  const Buckets before = model.buckets();
  auto refused = model.table().insert(crowd.back(), value_for(crowd.back()));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::limit_reached);
  EXPECT_TRUE(same_bytes(before, model.buckets()));
  model.check(crowd);
}

// The ABA guard: a key comes back to a slot another key held since it left
// only after a wait for readers; the table picks another free slot if it can.
class FilterTableAba : public ::testing::Test {
 protected:
  static constexpr std::uint32_t kBucket = 5;
  FilterTableShape shape_ = FilterTableShape::for_filters(64);
  std::vector<std::uint64_t> keys_ = keys_with_one_bucket(shape_, kBucket, VMQ_FILTER_BUCKET_SLOTS + 1);
  int waits_ = 0;
  Result<void> wait_result_;
  Model model_{shape_, 64, [this] {
                 ++waits_;
                 return wait_result_;
               }};

  const vmq_filter_slot& slot(std::size_t index) const { return model_.buckets()[kBucket].slot[index]; }

  std::size_t slot_of(std::uint64_t key) const {
    for (std::size_t i = 0; i < VMQ_FILTER_BUCKET_SLOTS; ++i) {
      if (slot(i).key == key) return i;
    }
    return VMQ_FILTER_BUCKET_SLOTS;
  }

  // keys_[2..] in the first slots of the bucket, leaving `free` slots.
  void occupy_all_but(std::size_t free) {
    for (std::size_t i = 0; i < VMQ_FILTER_BUCKET_SLOTS - free; ++i) ASSERT_TRUE(model_.insert(keys_[2 + i], {4, 4}));
  }

  // keys_[0] takes the first free slot and leaves it, keys_[1] takes it and
  // leaves it too. Returns the slot.
  std::size_t key_then_another_key_in_one_slot() {
    EXPECT_TRUE(model_.insert(keys_[0], {1, 1}));
    const std::size_t index = slot_of(keys_[0]);
    EXPECT_TRUE(model_.erase(keys_[0]));
    EXPECT_TRUE(model_.insert(keys_[1], {2, 2}));
    EXPECT_EQ(slot_of(keys_[1]), index);
    EXPECT_TRUE(model_.erase(keys_[1]));
    return index;
  }
};

TEST_F(FilterTableAba, AKeyBackInItsOwnSlotNeedsNoWait) {
  ASSERT_TRUE(model_.insert(keys_[0], {1, 1}));
  const std::size_t index = slot_of(keys_[0]);
  ASSERT_TRUE(model_.erase(keys_[0]));
  ASSERT_TRUE(model_.insert(keys_[0], {3, 3}));
  EXPECT_EQ(slot_of(keys_[0]), index);
  EXPECT_EQ(waits_, 0);
  model_.check();
}

TEST_F(FilterTableAba, AnotherFreeSlotAvoidsTheWait) {
  const std::size_t index = key_then_another_key_in_one_slot();
  ASSERT_TRUE(model_.insert(keys_[0], {3, 3}));
  EXPECT_EQ(waits_, 0);
  EXPECT_NE(slot_of(keys_[0]), index);
  model_.check();
}

TEST_F(FilterTableAba, TheOnlyFreeSlotIsTakenAfterAWait) {
  occupy_all_but(1);
  const std::size_t index = key_then_another_key_in_one_slot();
  ASSERT_TRUE(model_.insert(keys_[0], {3, 3}));
  EXPECT_EQ(waits_, 1);
  EXPECT_EQ(model_.table().reader_waits(), 1u);
  EXPECT_EQ(slot_of(keys_[0]), index);
  model_.check();
  // The wait forgot the slot's history: the same dance again waits again.
  ASSERT_TRUE(model_.erase(keys_[0]));
  ASSERT_TRUE(model_.insert(keys_[1], {2, 2}));
  ASSERT_TRUE(model_.erase(keys_[1]));
  ASSERT_TRUE(model_.insert(keys_[0], {3, 3}));
  EXPECT_EQ(waits_, 2);
}

TEST_F(FilterTableAba, AFailedWaitLeavesTheTableUnchanged) {
  occupy_all_but(1);
  key_then_another_key_in_one_slot();
  wait_result_ = fail(Errc::system, "no grace period");
  const Buckets before = model_.buckets();
  auto failed = model_.table().insert(keys_[0], {3, 3});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Errc::system);
  EXPECT_TRUE(same_bytes(before, model_.buckets()));
  EXPECT_EQ(model_.table().reader_waits(), 0u);
  model_.check();
}

TEST(FilterTable, AdoptsATableWrittenBefore) {
  const auto shape = FilterTableShape::for_filters(64);
  Buckets buckets(shape.buckets());
  {
    FilterTable writer(buckets, shape, 64, no_readers());
    ASSERT_TRUE(writer.insert(0x1111, {1, 1}));
    ASSERT_TRUE(writer.insert(0x2222, {2, 2}));
  }
  FilterTable adopted(buckets, shape, 64, no_readers());
  EXPECT_EQ(adopted.size(), 2u);
  EXPECT_TRUE(same_value(*adopted.find(0x2222), {2, 2}));
}

// ------------------------------------------------------------ concurrency

// The classifier's lookup (bpf/vmq_classify.bpf.c, find_filter()) with C++
// atomics: acquire loads keep key, value, key in order as READ_ONCE and x86
// do for the BPF program. `pause` runs between the loads.
template <typename Pause>
std::optional<vmq_filter_value> read_like_classifier(Buckets& buckets, const FilterTableShape& shape,
                                                     std::uint64_t key, Pause&& pause) {
  for (std::uint32_t bucket : {shape.first_bucket(key), shape.second_bucket(key)}) {
    for (auto& slot : buckets[bucket].slot) {
      if (std::atomic_ref<__u64>(slot.key).load(std::memory_order_acquire) != key) continue;
      pause();
      const auto value = std::atomic_ref<vmq_filter_value>(slot.value).load(std::memory_order_acquire);
      pause();
      if (std::atomic_ref<__u64>(slot.key).load(std::memory_order_acquire) != key) continue;
      return value;
    }
  }
  return std::nullopt;
}

// The table under churn: the writer gives key pool[i] values whose queue id
// is i, so a reader can tell a value of another key.
struct Churned {
  Buckets& buckets;
  const FilterTableShape& shape;
  const std::vector<std::uint64_t>& pool;
};

struct ReaderCounts {
  std::atomic<std::uint64_t> lookups{0}, hits{0}, wrong{0};

  // Looks pool key `index` up; a hit must carry the key's own queue id.
  template <typename Pause>
  void look_up(const Churned& table, std::size_t index, Pause&& pause) {
    const auto value = read_like_classifier(table.buckets, table.shape, table.pool[index], pause);
    lookups.fetch_add(1, std::memory_order_relaxed);
    if (!value) return;
    hits.fetch_add(1, std::memory_order_relaxed);
    if (value->queue_id != index) wrong.fetch_add(1, std::memory_order_relaxed);
  }
};

// A reader on another CPU, now and then stalled for microseconds between its
// loads (as an interrupt or a preempted vCPU would stall it), and the grace
// period the writer waits for: the section counter is odd during a lookup.
class ThreadReader {
 public:
  explicit ThreadReader(const Churned& table) : table_(table), thread_([this] { run(); }) {}
  ~ThreadReader() { stop(); }

  void stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

  Result<void> wait_for_lookup_in_progress() {
    std::atomic_thread_fence(std::memory_order_seq_cst);  // the writer's stores before the check
    const std::uint64_t seen = section_.load(std::memory_order_seq_cst);
    if (seen % 2 == 0) return {};
    while (section_.load(std::memory_order_acquire) == seen) std::this_thread::yield();
    return {};
  }

  const ReaderCounts& counts() const { return counts_; }

 private:
  void run() {
    std::mt19937_64 rng(99);
    while (!stop_.load(std::memory_order_relaxed)) {
      const bool stall = rng() % 32 == 0;
      auto pause = [stall] {
        if (!stall) return;
        const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(10);
        while (std::chrono::steady_clock::now() < until) {
        }
      };
      section_.fetch_add(1, std::memory_order_seq_cst);
      counts_.look_up(table_, rng() % table_.pool.size(), pause);
      section_.fetch_add(1, std::memory_order_release);
    }
  }

  const Churned& table_;
  ReaderCounts counts_;
  std::atomic<std::uint64_t> section_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A reader that interrupts the writer: a timer signal every few microseconds
// runs lookups of every pool key in the writer's thread, so they see the
// table between any two of the writer's stores, as an XDP run interrupting
// the agent's CPU would. Other threads must block kSignal.
class InterruptReader {
 public:
  static constexpr int kSignal = SIGALRM;

  explicit InterruptReader(const Churned& table) {
    table_.store(&table);
    struct sigaction action {};
    action.sa_handler = on_signal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(kSignal, &action, &previous_);
    sigevent event{};
    event.sigev_notify = SIGEV_SIGNAL;
    event.sigev_signo = kSignal;
    timer_create(CLOCK_MONOTONIC, &event, &timer_);
    itimerspec every{};
    every.it_interval.tv_nsec = 50'000;
    every.it_value.tv_nsec = 50'000;
    timer_settime(timer_, 0, &every, nullptr);
  }
  ~InterruptReader() { stop(); }
  InterruptReader(const InterruptReader&) = delete;
  InterruptReader& operator=(const InterruptReader&) = delete;

  void stop() {
    if (!table_.load()) return;
    timer_delete(timer_);
    signal(kSignal, SIG_IGN);  // drops a signal still pending
    sigaction(kSignal, &previous_, nullptr);
    table_.store(nullptr);
  }

  static const ReaderCounts& counts() { return counts_; }

 private:
  static void on_signal(int) {
    const Churned* table = table_.load();
    if (!table) return;
    for (std::size_t index = 0; index < table->pool.size(); ++index) counts_.look_up(*table, index, [] {});
  }

  static inline std::atomic<const Churned*> table_{nullptr};
  static inline ReaderCounts counts_;
  timer_t timer_{};
  struct sigaction previous_ {};
};

// Blocks a signal in this thread, and so in the threads it starts.
class BlockedSignal {
 public:
  explicit BlockedSignal(int signo) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    pthread_sigmask(SIG_BLOCK, &set, &previous_);
  }
  ~BlockedSignal() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  BlockedSignal(const BlockedSignal&) = delete;
  BlockedSignal& operator=(const BlockedSignal&) = delete;

 private:
  sigset_t previous_;
};

struct WriterCounts {
  std::uint64_t inserts = 0, erases = 0, replaces = 0;
};

// One second of random inserts, erases and replacements of pool keys.
WriterCounts churn(FilterTable& table, const std::vector<std::uint64_t>& pool, std::mt19937_64& rng) {
  WriterCounts counts;
  std::uint32_t generation = 0;
  // At least a second, and long enough for 2,000 inserts however slow the
  // machine (sanitizers, other load), but never more than 20 s.
  const auto start = std::chrono::steady_clock::now();
  auto enough = [&] {
    const auto elapsed = std::chrono::steady_clock::now() - start;
    return elapsed > std::chrono::seconds(20) || (elapsed > std::chrono::seconds(1) && counts.inserts >= 2000);
  };
  while (!enough()) {
    const std::size_t index = rng() % pool.size();
    const vmq_filter_value value{static_cast<std::uint32_t>(index), ++generation};
    if (!table.find(pool[index])) {
      if (table.insert(pool[index], value)) ++counts.inserts;
    } else if (rng() % 3 == 0) {
      EXPECT_TRUE(table.replace(pool[index], value));
      ++counts.replaces;
    } else {
      EXPECT_TRUE(table.erase(pool[index]));
      ++counts.erases;
    }
  }
  return counts;
}

// A table of 8 buckets kept about 75% full from a pool of 40 keys: slots
// change keys all the time and residents move. A value a reader takes must
// always be one the writer gave to the key it looked up.
TEST(FilterTableConcurrency, AReaderNeverTakesTheValueOfAnotherKey) {
  FilterTableShape shape;
  shape.bucket_bits = 3;
  constexpr std::uint32_t kMax = 24;
  std::mt19937_64 rng(5);
  const auto pool = distinct_random_keys(rng, 40);
  Buckets buckets(shape.buckets());
  const Churned churned{buckets, shape, pool};

  std::optional<ThreadReader> thread_reader;
  {
    BlockedSignal blocked(InterruptReader::kSignal);
    thread_reader.emplace(churned);
  }
  FilterTable table(buckets, shape, kMax, [&] { return thread_reader->wait_for_lookup_in_progress(); });
  InterruptReader interrupt_reader(churned);
  const WriterCounts writes = churn(table, pool, rng);
  interrupt_reader.stop();
  thread_reader->stop();

  const ReaderCounts& other_cpu = thread_reader->counts();
  const ReaderCounts& interrupts = InterruptReader::counts();
  EXPECT_EQ(other_cpu.wrong.load(), 0u) << "of " << other_cpu.hits.load() << " hits on another CPU";
  EXPECT_EQ(interrupts.wrong.load(), 0u) << "of " << interrupts.hits.load() << " hits in interrupts";
  EXPECT_GT(other_cpu.hits.load(), 1000u);
  EXPECT_GT(interrupts.hits.load(), 1000u);
  EXPECT_GT(writes.inserts, 1000u);
  RecordProperty("thread_hits", std::to_string(other_cpu.hits.load()));
  RecordProperty("interrupt_hits", std::to_string(interrupts.hits.load()));
  RecordProperty("writes", std::to_string(writes.inserts + writes.erases + writes.replaces));
  RecordProperty("reader_waits", std::to_string(table.reader_waits()));
}

}  // namespace
}  // namespace vmq
