// EXPERIMENT: loads a variant of classify_variants.bpf.c with the production
// limits and fills its tables in the layout the variant's switches ask for.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <vector>

#include "bench_object.h"
#include "experiments/experiment_variants.h"
#include "filter_setup.h"

namespace vmq::bench {

Result<BenchObject> load_experiment(const ExperimentVariant& variant);

class ExperimentTables final : public ClassifierTables {
 public:
  ExperimentTables(const BenchObject& object, const ExperimentVariant& variant);

  Result<void> put_queue(std::uint32_t queue_id, const vmq_queue_entry& entry) override;
  Result<void> put_socket(std::uint32_t queue_id, int xsk_fd) override;
  Result<void> put_filter(const FilterSpec& filter) override;
  Result<void> commit() override;

 private:
  struct Slot {
    std::uint64_t key;
    std::uint64_t value;  // the 8 bytes of the variant's filter value
  };
  using Bucket = std::array<Slot, 4>;

  static std::ptrdiff_t free_slots(const Bucket& bucket);
  std::uint64_t filter_value(const FilterSpec& filter) const;
  Result<void> put_in_bucket_table(const FilterSpec& filter);
  Result<int> map(std::string_view name) const;

  const BenchObject& object_;
  bool queue_in_filter_;
  bool bucket_table_;
  std::map<std::uint32_t, vmq_queue_entry> queues_;
  std::vector<Bucket> buckets_;
};

}  // namespace vmq::bench
