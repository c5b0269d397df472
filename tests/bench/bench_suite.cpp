#include "bench_suite.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <linux/bpf.h>

#include <algorithm>
#include <cerrno>

#include "bench_call_cost.skel.h"
#include "bench_plain_hash.skel.h"
#include "bench_retag_harness.skel.h"
#include "bench_xdp_pass.skel.h"

namespace vmq::bench {
namespace {

using RunFn = decltype(BenchCase::run);

RunFn run_program(int program_fd) {
  return [program_fd](std::span<const std::uint8_t> frame, std::uint32_t repeat) {
    return test_run(program_fd, frame, repeat);
  };
}

RunFn run_classifier(const os::Classifier& classifier) {
  return [&classifier](std::span<const std::uint8_t> frame, std::uint32_t repeat) -> Result<RunSample> {
    auto result = classifier.test_run(frame, 0, 0, repeat);
    if (!result) return std::unexpected(result.error());
    return RunSample{result->action, result->duration_ns, std::move(result->frame)};
  };
}

// 65536 -> "65,536".
std::string count_label(std::uint32_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string filters_label(std::uint32_t n) { return count_label(n) + (n == 1 ? " filter" : " filters"); }

std::vector<Frame> hit_frames_for(const std::vector<FilterSpec>& filters, std::uint32_t flows) {
  std::vector<Frame> frames;
  for (const auto& f : pick_hit_filters(filters, flows)) frames.push_back(tagged_frame_to(f.key));
  return frames;
}

Result<void> put_plain_keys(int map_fd, const std::vector<FilterSpec>& filters) {
  for (const auto& f : filters) {
    if (bpf_map_update_elem(map_fd, &f.key, &f.filter_id, BPF_ANY))
      return fail_errno(errno, "writing a plain_hash key");
  }
  return {};
}

using RetagHarness = std::unique_ptr<bench_retag_harness, RetagHarnessDeleter>;

Result<void> share_tables(bench_retag_harness& harness, const std::vector<NamedMap>& maps) {
  for (bpf_map* map : {harness.maps.vmq_filters, harness.maps.vmq_queues, harness.maps.vmq_xsks}) {
    const std::string_view name = bpf_map__name(map);
    auto found = std::find_if(maps.begin(), maps.end(), [&](const NamedMap& m) { return m.name == name; });
    if (found == maps.end()) return fail(Errc::not_found, fmt::format("classifier has no map {}", name));
    if (int err = bpf_map__reuse_fd(map, found->fd.get())) return fail_errno(-err, fmt::format("sharing map {}", name));
  }
  return {};
}

// The harness reads the classifier's tables as the classifier does (same
// .rodata), and counts into counters of its own, sized as the classifier's
// so that every counter update finds its entry.
Result<RetagHarness> load_retag_harness(const os::Classifier& classifier) {
  auto maps = maps_of_program(classifier.program_fd());
  if (!maps) return std::unexpected(maps.error());
  RetagHarness harness(bench_retag_harness__open());
  if (!harness) return fail_errno(errno, "opening the re-tag harness");
  const auto& limits = classifier.limits();
  const auto& shape = classifier.filter_table_shape();
  harness->rodata->rxq_count = limits.rxq_count;
  harness->rodata->max_frame_len = limits.max_frame_len;
  harness->rodata->filter_hash_first = shape.first_multiplier;
  harness->rodata->filter_hash_second = shape.second_multiplier;
  harness->rodata->filter_bucket_shift = shape.shift();
  if (int err = bpf_map__set_max_entries(harness->maps.vmq_queue_stats, limits.max_queues))
    return fail_errno(-err, "sizing the harness's queue counters");
  if (int err = bpf_map__set_max_entries(harness->maps.vmq_filter_stats, limits.max_filters + 1))
    return fail_errno(-err, "sizing the harness's filter counters");
  if (auto ok = share_tables(*harness, *maps); !ok) return std::unexpected(ok.error());
  for (bpf_program* copy : {harness->progs.vmq_classify, harness->progs.vmq_classify_mb, harness->progs.vmq_trace,
                             harness->progs.vmq_trace_mb})
    if (int err = bpf_program__set_autoload(copy, false))
      return fail_errno(-err, "skipping the harness's copies of the classifier");
  if (int err = bench_retag_harness__load(harness.get())) return fail_errno(-err, "loading the re-tag harness");
  return harness;
}

Result<void> set_vlan_mode(os::Classifier& classifier, const std::vector<std::uint32_t>& queues, vmq_vlan_mode mode) {
  for (std::uint32_t q : queues) {
    if (auto ok = classifier.put_queue(q, vmq_queue_entry{VMQ_QUEUE_RUNNING, static_cast<std::uint32_t>(mode), 1, 0}); !ok)
      return ok;
  }
  return {};
}

}  // namespace

void RetagHarnessDeleter::operator()(bench_retag_harness* skel) const { bench_retag_harness__destroy(skel); }

std::string_view to_string(CaseGroup group) {
  switch (group) {
    case CaseGroup::baseline: return "baseline";
    case CaseGroup::vmq: return "vmq";
    case CaseGroup::call_cost: return "call_cost";
  }
  return "?";
}

Result<std::unique_ptr<BenchSuite>> BenchSuite::build(const BenchOptions& options) {
  std::unique_ptr<BenchSuite> suite(new BenchSuite(options.flows));
  if (auto ok = suite->add_baselines(); !ok) return std::unexpected(ok.error());
  for (std::uint32_t filters : kFilterCounts) {
    if (auto ok = suite->add_production(filters); !ok) return std::unexpected(ok.error());
  }
  if (auto ok = suite->add_call_cost(); !ok) return std::unexpected(ok.error());
  return suite;
}

Result<void> BenchSuite::add_baselines() {
  auto pass = BenchObject::load("bench_xdp_pass", bench_xdp_pass__elf_bytes);
  if (!pass) return std::unexpected(pass.error());
  auto fd = pass->program_fd("xdp_pass");
  if (!fd) return std::unexpected(fd.error());
  objects_.push_back(std::move(*pass));
  cases_.push_back({"xdp_pass", "xdp_pass", CaseGroup::baseline, XDP_PASS, {unknown_unicast_frame()},
                    run_program(*fd), {}, {}});
  if (auto ok = add_plain_hash(kPlainHashKeys, true); !ok) return ok;
  return add_plain_hash(kMaxFilters, false);
}

Result<void> BenchSuite::add_plain_hash(std::uint32_t keys, bool with_miss) {
  auto plain = BenchObject::load("bench_plain_hash", bench_plain_hash__elf_bytes);
  if (!plain) return std::unexpected(plain.error());
  auto program = plain->program_fd("plain_hash");
  auto map = plain->map_fd("plain_filters");
  if (!program) return std::unexpected(program.error());
  if (!map) return std::unexpected(map.error());
  const auto keys_set = make_filters(keys, kMaxQueues);
  if (auto ok = put_plain_keys(*map, keys_set); !ok) return ok;
  objects_.push_back(std::move(*plain));

  const std::string n = count_label(keys);
  cases_.push_back({fmt::format("plain_hash_hit_{}", keys), fmt::format("plain_hash hit, {} keys", n),
                    CaseGroup::baseline, XDP_PASS, hit_frames_for(keys_set, flows_), run_program(*program), {}, {}});
  if (with_miss)
    cases_.push_back({fmt::format("plain_hash_miss_{}", keys), fmt::format("plain_hash miss, {} keys", n),
                      CaseGroup::baseline, XDP_DROP, {unknown_unicast_frame()}, run_program(*program), {}, {}});
  return {};
}

Result<BenchSuite::Production> BenchSuite::load_production(std::uint32_t filters, bool multi_buffer) {
  auto loaded = os::Classifier::load(os::ClassifierLimits{kMaxQueues, kMaxFilters, 1, 3840, multi_buffer});
  if (!loaded) return std::unexpected(loaded.error());
  os::Classifier& classifier = classifiers_.emplace_back(std::move(*loaded));
  auto installed = install_filters(classifier, filters, flows_, sockets_);
  if (!installed) return std::unexpected(installed.error());
  return Production{&classifier, std::move(*installed)};
}

// The build vmqd loads on a standard-MTU uplink (single-buffer frames); at
// the largest table also the jumbo-MTU build, for its price.
Result<void> BenchSuite::add_production(std::uint32_t filters) {
  auto production = load_production(filters, false);
  if (!production) return std::unexpected(production.error());
  os::Classifier& classifier = *production->classifier;
  const InstalledFilters& installed = production->filters;

  const std::string n = filters_label(filters);
  cases_.push_back({fmt::format("vmq_hit_trunk_{}", filters), fmt::format("vmq hit, trunk, {}", n), CaseGroup::vmq,
                    XDP_REDIRECT, installed.hit_frames, run_classifier(classifier), {}, {}});
  cases_.push_back({fmt::format("vmq_miss_{}", filters), fmt::format("vmq miss (unknown MAC), {}", n),
                    CaseGroup::vmq, XDP_PASS, {installed.miss_frame}, run_classifier(classifier), {}, {}});
  if (filters != kMaxFilters) return {};
  if (auto ok = add_multi_buffer_build(filters); !ok) return ok;
  return add_access_mode(classifier, installed);
}

Result<void> BenchSuite::add_multi_buffer_build(std::uint32_t filters) {
  auto production = load_production(filters, true);
  if (!production) return std::unexpected(production.error());
  cases_.push_back({fmt::format("vmq_mb_hit_trunk_{}", filters),
                    fmt::format("vmq hit, trunk, {}, multi-buffer build (jumbo MTU)", filters_label(filters)),
                    CaseGroup::vmq, XDP_REDIRECT, production->filters.hit_frames,
                    run_classifier(*production->classifier), {}, {}});
  return {};
}

Result<void> BenchSuite::add_access_mode(os::Classifier& classifier, const InstalledFilters& installed) {
  auto harness = load_retag_harness(classifier);
  if (!harness) return std::unexpected(harness.error());
  const int retag = bpf_program__fd((*harness)->progs.vmq_classify_retag);
  const int strip = bpf_program__fd((*harness)->progs.strip_and_retag);
  harnesses_.push_back(std::move(*harness));

  const auto queues = installed.hit_queues;
  cases_.push_back({"vmq_hit_access_retag_65536", "vmq hit, access + harness re-tag, 65,536 filters",
                    CaseGroup::vmq, XDP_REDIRECT, installed.hit_frames, run_program(retag),
                    [&classifier, queues] { return set_vlan_mode(classifier, queues, VMQ_VLAN_MODE_ACCESS); },
                    [&classifier, queues] { return set_vlan_mode(classifier, queues, VMQ_VLAN_MODE_TRUNK); }});
  cases_.push_back({"strip_retag", "tag strip + re-tag alone (harness cost)", CaseGroup::vmq, XDP_PASS,
                    {installed.hit_frames.front()}, run_program(strip), {}, {}});
  return {};
}

Result<void> BenchSuite::add_call_cost() {
  auto calls = BenchObject::load("bench_call_cost", bench_call_cost__elf_bytes);
  if (!calls) return std::unexpected(calls.error());
  auto helper = calls->program_fd("helper_calls");
  auto subprog = calls->program_fd("subprog_calls");
  if (!helper) return std::unexpected(helper.error());
  if (!subprog) return std::unexpected(subprog.error());
  objects_.push_back(std::move(*calls));
  cases_.push_back({"helper_calls", fmt::format("{} bpf_xdp_get_buff_len() calls", kCallCostCalls),
                    CaseGroup::call_cost, XDP_PASS, {unknown_unicast_frame()}, run_program(*helper), {}, {}});
  cases_.push_back({"subprog_calls", fmt::format("{} BPF-to-BPF calls", kCallCostCalls), CaseGroup::call_cost,
                    XDP_PASS, {unknown_unicast_frame()}, run_program(*subprog), {}, {}});
  return {};
}

}  // namespace vmq::bench
