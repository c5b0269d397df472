// BPF objects the benchmark loads as they are (the baselines, call_cost)
// from the ELF bytes their skeletons embed, BPF_PROG_TEST_RUN on any loaded
// program, and the maps a loaded program uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/unique_fd.h"
#include "core/error.h"

struct bpf_object;

namespace vmq::bench {

// `<skeleton>__elf_bytes` of a bpftool skeleton.
using ElfBytesFn = const void* (*)(std::size_t*);

class BenchObject {
 public:
  static Result<BenchObject> load(const std::string& label, ElfBytesFn elf_bytes);

  BenchObject(BenchObject&& other) noexcept : object_(std::exchange(other.object_, nullptr)) {}
  BenchObject& operator=(BenchObject&& other) noexcept;
  BenchObject(const BenchObject&) = delete;
  BenchObject& operator=(const BenchObject&) = delete;
  ~BenchObject();

  Result<int> program_fd(std::string_view name) const;
  Result<int> map_fd(std::string_view name) const;

 private:
  explicit BenchObject(bpf_object* object) : object_(object) {}

  bpf_object* object_ = nullptr;
};

struct RunSample {
  std::uint32_t action = 0;        // XDP_PASS, XDP_REDIRECT, ...
  std::uint32_t ns = 0;            // kernel-measured mean per run
  std::vector<std::uint8_t> frame; // as the last run left it
};

// "XDP_PASS", "XDP_REDIRECT", ...
std::string xdp_action_name(std::uint32_t action);

// BPF_PROG_TEST_RUN of an XDP program on `frame`, `repeat` times.
Result<RunSample> test_run(int program_fd, std::span<const std::uint8_t> frame, std::uint32_t repeat);

struct NamedMap {
  std::string name;  // as the kernel keeps it: at most 15 characters
  UniqueFd fd;
};

// The maps a loaded program uses.
Result<std::vector<NamedMap>> maps_of_program(int program_fd);

}  // namespace vmq::bench
