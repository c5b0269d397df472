// The loaded XDP classifier of one uplink: its program and maps, behind a
// move-only owner. Writes the tables the program reads and sums the per-CPU
// counters it writes. Attaching it to a device is XdpAttachment's job.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/error.h"
#include "core/filter_table.h"
#include "os/xdp_test_run.h"
#include "vmq/abi.h"

struct vmq_classify;
struct bpf_object;
struct bpf_program;

namespace vmq::os {

class FilterStore;

struct ClassifierLimits {
  std::uint32_t max_queues = 256;      // queue ids 0..max_queues-1
  std::uint32_t max_filters = 1024;    // filter ids 1..max_filters
  std::uint32_t rxq_count = 1;         // rx queues of the uplink
  std::uint32_t max_frame_len = 3840;  // longest frame a queue's buffer holds
  // Frames may span several buffers (jumbo MTU): the xdp.frags build, which
  // asks the kernel for each frame's length (a call per frame), is loaded
  // instead of the single-buffer one.
  bool multi_buffer = true;
  // The trace build, which records each decision (trace_run()); never
  // attached. load_shadow() loads it.
  bool trace = false;
  // XSKMAP rows per queue: the most sub-queues a queue may have (VMMQ).
  std::uint32_t sub_queue_slots = 1;
};


using DefaultTraffic = std::array<vmq_traffic, VMQ_DEFAULT_REASON_COUNT>;

// What the kernel's tables hold.
struct TableEntries {
  std::uint32_t filters = 0;  // occupied slots of the filter table
  std::uint32_t queues = 0;   // queue entries in a state other than undefined
};

// A run of a trace build: the program's action, the frame as it left, and
// the program's own record of its decision.
struct TracedRun {
  std::uint32_t action = 0;
  std::vector<std::uint8_t> frame;
  vmq_trace_record record{};
};

class Classifier {
 public:
  // Loads a fresh instance with its own tables and counters.
  static Result<Classifier> load(const ClassifierLimits& limits);
  // Opens and sizes an instance without loading it, for libxdp to load: its
  // dispatcher needs the program as an extension, not as a loaded XDP program.
  static Result<Classifier> open(const ClassifierLimits& limits);
  // Loads the trace build beside `live`: it reads live's filter, queue and
  // socket tables but counts into counters of its own, so runs on it
  // (vmqctl trace) never disturb the live statistics, and it records each
  // decision (trace_run()).
  static Result<Classifier> load_shadow(const Classifier& live);

  Classifier(Classifier&& other) noexcept;
  Classifier& operator=(Classifier&& other) noexcept;
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;
  ~Classifier();

  const ClassifierLimits& limits() const { return limits_; }
  bpf_object* object() const;
  bpf_program* program() const;
  bool loaded() const { return program_fd() >= 0; }
  int program_fd() const;
  std::uint32_t program_id() const;

  // Adds a filter or gives an existing one a new value. The filter table is
  // written in place, under running lookups (vmq/abi.h); MAC
  // 00:00:00:00:00:00 is refused.
  Result<void> put_filter(const vmq_filter_key& key, const vmq_filter_value& value);
  Result<void> delete_filter(const vmq_filter_key& key);
  // The filter table's buckets and hashes, as in the program's .rodata.
  const FilterTableShape& filter_table_shape() const;
  Result<void> put_queue(std::uint32_t queue_id, const vmq_queue_entry& entry);
  std::uint32_t socket_slot(std::uint32_t queue_id, std::uint32_t rxq) const { return socket_slot(queue_id, 0, rxq); }
  std::uint32_t socket_slot(std::uint32_t queue_id, std::uint32_t sub_queue, std::uint32_t rxq) const {
    return vmq_socket_slot(queue_id, sub_queue, limits_.sub_queue_slots, limits_.rxq_count, rxq);
  }
  Result<void> put_socket(std::uint32_t slot, int xsk_fd);
  Result<void> delete_socket(std::uint32_t slot);

  Result<vmq_traffic> queue_traffic(std::uint32_t queue_id) const;
  Result<std::uint64_t> filter_hits(std::uint32_t filter_id) const;
  Result<DefaultTraffic> default_traffic() const;
  // Counts the entries of the filter and queue maps, read through the bpf(2)
  // syscall rather than the writer's mapping: a check of vmqd's own records
  // (a leak shows as a difference).
  Result<TableEntries> table_entries() const;
  // Zeroes the counters of an id about to be reused.
  Result<void> reset_queue_traffic(std::uint32_t queue_id);
  Result<void> reset_filter_hits(std::uint32_t filter_id);

  // BPF_PROG_TEST_RUN: runs the program on `frame` as if it arrived on
  // (ifindex, rxq); ifindex 0 means no device (rxq must then be 0).
  Result<TestRunResult> test_run(std::span<const std::uint8_t> frame, std::uint32_t ifindex = 0,
                                 std::uint32_t rxq = 0, std::uint32_t repeat = 1) const;
  // test_run() once on a trace build, with what the program recorded of its
  // decision; the live builds record nothing and refuse.
  Result<TracedRun> trace_run(std::span<const std::uint8_t> frame, std::uint32_t ifindex = 0,
                              std::uint32_t rxq = 0) const;

 private:
  // Loads the build `limits_` asks for, none of the others.
  Result<void> choose_build();
  Classifier(vmq_classify* skel, const ClassifierLimits& limits, std::shared_ptr<FilterStore> filters);
  static Result<Classifier> open_configured(const ClassifierLimits& limits, const Classifier* tables);
  Result<void> load_opened();
  Result<FilterTable*> filter_table();

  vmq_classify* skel_ = nullptr;
  ClassifierLimits limits_;
  // The mmapped filter table and its writer, shared with shadow instances:
  // one writer per table.
  std::shared_ptr<FilterStore> filters_;
};

}  // namespace vmq::os
