// EXPERIMENT: the variants of classify_variants.bpf.c the benchmark can run
// (--experiments). The list is generated from tests/bench/CMakeLists.txt.
#pragma once

#include <algorithm>
#include <string_view>
#include <vector>

#include "bench_object.h"

namespace vmq::bench {

struct ExperimentVariant {
  std::string_view name;
  std::string_view switches;  // comma separated EXP_* switches
  ElfBytesFn elf_bytes;

  bool has(std::string_view flag) const {
    for (std::size_t start = 0; start <= switches.size();) {
      const std::size_t end = std::min(switches.find(',', start), switches.size());
      if (switches.substr(start, end - start) == flag) return true;
      start = end + 1;
    }
    return false;
  }
};

std::vector<ExperimentVariant> experiment_variants();

}  // namespace vmq::bench
