// vmq-bench-checksum: what completing deferred checksums costs vmq's worker,
// in nanoseconds per frame, for the work the worker does on each frame it
// hands to a port (core/deferred_checksum.h):
//   complete  the frame's checksum is complete (a physical NIC's frames): the
//             headers are read and the pseudo-header sum compared, nothing else;
//   deferred  the sender left the checksum to offload (a veth's frames): the
//             segment is summed and the checksum stored.
// For 64-byte UDP and 1,514-byte TCP frames, each with its frame's cache lines
// hot (the same 64 frames again and again) and cold (flushed from the cache
// before each pass: the worker finds frames the kernel wrote on another CPU).
// Rounds interleave the cases; the report gives the median and the range.
// Not a test: never registered with ctest. No privileges needed.
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/deferred_checksum.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kFrameStride = 4096;  // as in the UMEM

std::uint16_t folded_be(const std::uint8_t* p, std::size_t n, std::uint32_t sum) {
  for (std::size_t i = 0; i < n; i += 2) sum += static_cast<std::uint32_t>(p[i] << 8 | (i + 1 < n ? p[i + 1] : 0));
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

// An untagged IPv4 frame with a deferred checksum (the pseudo-header sum in
// the field), and the same frame complete.
struct Template {
  std::vector<std::uint8_t> deferred, complete;
  std::size_t field = 0;
};

Template make_template(bool tcp, std::size_t size) {
  std::mt19937 rng(7);
  std::vector<std::uint8_t> f(size);
  for (auto& b : f) b = static_cast<std::uint8_t>(rng());
  f[12] = 0x08, f[13] = 0x00;
  const std::size_t ip = 14, l4 = 34, l4_len = size - l4;
  f[ip] = 0x45, f[ip + 1] = 0;
  f[ip + 2] = static_cast<std::uint8_t>((size - ip) >> 8), f[ip + 3] = static_cast<std::uint8_t>(size - ip);
  f[ip + 6] = 0x40, f[ip + 7] = 0;
  f[ip + 9] = tcp ? 6 : 17;
  const std::size_t field = l4 + (tcp ? 16 : 6);
  if (!tcp) f[l4 + 4] = static_cast<std::uint8_t>(l4_len >> 8), f[l4 + 5] = static_cast<std::uint8_t>(l4_len);
  const std::uint32_t pseudo_words = (tcp ? 6u : 17u) + static_cast<std::uint32_t>(l4_len);
  const std::uint16_t pseudo = folded_be(&f[ip + 12], 8, pseudo_words);
  f[field] = static_cast<std::uint8_t>(pseudo >> 8), f[field + 1] = static_cast<std::uint8_t>(pseudo);
  Template t{f, f, field};
  const auto sum = static_cast<std::uint16_t>(~folded_be(&f[l4], l4_len, 0));  // the field holds the pseudo sum
  t.complete[field] = static_cast<std::uint8_t>(sum >> 8), t.complete[field + 1] = static_cast<std::uint8_t>(sum);
  return t;
}

struct Case {
  std::string name;
  const Template* frame;
  bool deferred;
  bool cold;
};

// ns per frame for one pass over `frames` frames of the case.
double run_pass(const Case& c, std::vector<std::uint8_t>& area, std::size_t frames, std::size_t passes) {
  const std::vector<std::uint8_t>& bytes = c.deferred ? c.frame->deferred : c.frame->complete;
  const std::size_t len = bytes.size();
  for (std::size_t i = 0; i < frames; ++i) std::memcpy(&area[i * kFrameStride], bytes.data(), len);
  std::uint64_t found = 0;
  Clock::duration spent{};
  for (std::size_t p = 0; p < passes; ++p) {
    for (std::size_t i = 0; i < frames; ++i) {  // a deferred frame gets its pseudo-header sum back
      std::uint8_t* f = &area[i * kFrameStride];
      f[c.frame->field] = bytes[c.frame->field], f[c.frame->field + 1] = bytes[c.frame->field + 1];
      if (c.cold)
        for (std::size_t line = 0; line < len; line += 64) _mm_clflush(f + line);
    }
    _mm_mfence();
    const auto start = Clock::now();
    for (std::size_t i = 0; i < frames; ++i) {
      const std::span<std::uint8_t> f(&area[i * kFrameStride], len);
      if (auto at = vmq::find_deferred_checksum(f)) {
        vmq::complete_checksum(f, *at);
        ++found;
      }
    }
    spent += Clock::now() - start;
  }
  if (found != (c.deferred ? frames * passes : 0)) {
    std::fprintf(stderr, "vmq-bench-checksum: case %s found %llu deferred checksums\n", c.name.c_str(),
                 static_cast<unsigned long long>(found));
    std::exit(1);
  }
  return std::chrono::duration<double, std::nano>(spent).count() / static_cast<double>(frames * passes);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vmq-bench-checksum: ns per frame of finding and completing deferred checksums"};
  int rounds = 7;
  std::size_t frames = 4096, passes = 20;
  bool as_json = false;
  app.add_option("--rounds", rounds, "interleaved rounds")->check(CLI::Range(1, 100));
  app.add_option("--frames", frames, "frames per pass (4 KiB apart, as in the UMEM)")->check(CLI::Range(64, 65536));
  app.add_option("--passes", passes, "passes per case and round")->check(CLI::Range(1, 1000));
  app.add_flag("--json", as_json, "print JSON instead of a table");
  CLI11_PARSE(app, argc, argv);

  const Template udp64 = make_template(false, 64), tcp1514 = make_template(true, 1514);
  std::vector<Case> cases;
  for (bool cold : {false, true})
    for (const auto& [label, t] : {std::pair{"udp64", &udp64}, std::pair{"tcp1514", &tcp1514}})
      for (bool deferred : {false, true})
        cases.push_back({fmt::format("{} {} {}", label, deferred ? "deferred" : "complete", cold ? "cold" : "hot"), t,
                         deferred, cold});

  std::vector<std::uint8_t> area(frames * kFrameStride);
  std::vector<std::vector<double>> results(cases.size());
  std::mt19937 shuffle(1);
  std::vector<std::size_t> order(cases.size());
  for (int r = 0; r < rounds; ++r) {
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), shuffle);
    for (std::size_t i : order)
      results[i].push_back(run_pass(cases[i], area, cases[i].cold ? frames : 64, cases[i].cold ? passes : passes * 64));
  }
  nlohmann::json out = nlohmann::json::array();
  if (!as_json) std::printf("%-26s %10s %10s %10s\n", "case", "median ns", "min", "max");
  for (std::size_t i = 0; i < cases.size(); ++i) {
    auto& v = results[i];
    std::sort(v.begin(), v.end());
    const double median = v[v.size() / 2];
    out.push_back({{"case", cases[i].name}, {"median_ns", median}, {"min_ns", v.front()}, {"max_ns", v.back()}});
    if (!as_json) std::printf("%-26s %10.1f %10.1f %10.1f\n", cases[i].name.c_str(), median, v.front(), v.back());
  }
  if (as_json) std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
