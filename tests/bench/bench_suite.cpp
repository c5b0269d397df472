#include "bench_suite.h"

#include <bpf/bpf.h>
#include <fmt/format.h>
#include <linux/bpf.h>

#include <algorithm>
#include <cerrno>

#include "bench_call_cost.skel.h"
#include "bench_plain_hash.skel.h"
#include "bench_retag_harness.skel.h"
#include "bench_xdp_pass.skel.h"
#include "experiments/experiment_tables.h"

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

// The harness shares the tables of the classifier whose `maps` these are;
// its counters are its own, sized as the classifier's so that every counter
// update finds its entry.
Result<LoadOptions> harness_options(const std::vector<NamedMap>& maps) {
  LoadOptions options;
  options.map_sizes = {{"vmq_queue_stats", kMaxQueues}, {"vmq_filter_stats", kMaxFilters + 1}};
  options.skipped_programs = {"vmq_classify"};
  for (const char* shared : {"vmq_filters", "vmq_queues", "vmq_xsks"}) {
    auto found = std::find_if(maps.begin(), maps.end(), [&](const NamedMap& m) { return m.name == shared; });
    if (found == maps.end()) return fail(Errc::not_found, fmt::format("classifier has no map {}", shared));
    options.shared_maps.emplace_back(shared, found->fd.get());
  }
  return options;
}

Result<void> set_vlan_mode(os::Classifier& classifier, const std::vector<std::uint32_t>& queues, vmq_vlan_mode mode) {
  for (std::uint32_t q : queues) {
    if (auto ok = classifier.put_queue(q, vmq_queue_entry{VMQ_QUEUE_RUNNING, static_cast<std::uint32_t>(mode)}); !ok)
      return ok;
  }
  return {};
}

}  // namespace

std::string_view to_string(CaseGroup group) {
  switch (group) {
    case CaseGroup::baseline: return "baseline";
    case CaseGroup::vmq: return "vmq";
    case CaseGroup::experiment: return "experiment";
  }
  return "?";
}

Result<std::unique_ptr<BenchSuite>> BenchSuite::build(const BenchOptions& options) {
  std::unique_ptr<BenchSuite> suite(new BenchSuite(options.flows));
  if (auto ok = suite->add_baselines(); !ok) return std::unexpected(ok.error());
  for (std::uint32_t filters : kFilterCounts) {
    if (auto ok = suite->add_production(filters); !ok) return std::unexpected(ok.error());
  }
  if (!options.experiments) return suite;
  if (auto ok = suite->add_call_cost(); !ok) return std::unexpected(ok.error());
  for (const auto& variant : experiment_variants()) {
    if (auto ok = suite->add_experiment(variant, kMaxFilters); !ok) return std::unexpected(ok.error());
    const auto& also = kExperimentsAlsoAtOneFilter;
    if (std::find(std::begin(also), std::end(also), variant.name) != std::end(also)) {
      if (auto ok = suite->add_experiment(variant, 1); !ok) return std::unexpected(ok.error());
    }
    suite->experiments_.push_back(variant);
  }
  return suite;
}

Result<void> BenchSuite::add_baselines() {
  auto pass = BenchObject::load("bench_xdp_pass", bench_xdp_pass__elf_bytes, {});
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
  auto plain = BenchObject::load("bench_plain_hash", bench_plain_hash__elf_bytes, {});
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

Result<void> BenchSuite::add_production(std::uint32_t filters) {
  auto loaded = os::Classifier::load(os::ClassifierLimits{kMaxQueues, kMaxFilters, 1, 3840});
  if (!loaded) return std::unexpected(loaded.error());
  os::Classifier& classifier = classifiers_.emplace_back(std::move(*loaded));
  ProductionTables tables(classifier);
  auto installed = install_filters(tables, filters, flows_, sockets_);
  if (!installed) return std::unexpected(installed.error());

  const std::string n = filters_label(filters);
  cases_.push_back({fmt::format("vmq_hit_trunk_{}", filters), fmt::format("vmq hit, trunk, {}", n), CaseGroup::vmq,
                    XDP_REDIRECT, installed->hit_frames, run_classifier(classifier), {}, {}});
  cases_.push_back({fmt::format("vmq_miss_{}", filters), fmt::format("vmq miss (unknown MAC), {}", n),
                    CaseGroup::vmq, XDP_PASS, {installed->miss_frame}, run_classifier(classifier), {}, {}});
  if (filters == kMaxFilters) return add_access_mode(classifier, *installed);
  return {};
}

Result<void> BenchSuite::add_access_mode(os::Classifier& classifier, const InstalledFilters& installed) {
  auto maps = maps_of_program(classifier.program_fd());
  if (!maps) return std::unexpected(maps.error());
  auto options = harness_options(*maps);
  if (!options) return std::unexpected(options.error());
  auto harness = BenchObject::load("bench_retag_harness", bench_retag_harness__elf_bytes, *options);
  if (!harness) return std::unexpected(harness.error());
  auto retag = harness->program_fd("vmq_classify_retag");
  auto strip = harness->program_fd("strip_and_retag");
  if (!retag) return std::unexpected(retag.error());
  if (!strip) return std::unexpected(strip.error());
  objects_.push_back(std::move(*harness));

  const auto queues = installed.hit_queues;
  cases_.push_back({"vmq_hit_access_retag_65536", "vmq hit, access + harness re-tag, 65,536 filters",
                    CaseGroup::vmq, XDP_REDIRECT, installed.hit_frames, run_program(*retag),
                    [&classifier, queues] { return set_vlan_mode(classifier, queues, VMQ_VLAN_MODE_ACCESS); },
                    [&classifier, queues] { return set_vlan_mode(classifier, queues, VMQ_VLAN_MODE_TRUNK); }});
  cases_.push_back({"strip_retag", "tag strip + re-tag alone (harness cost)", CaseGroup::vmq, XDP_PASS,
                    {installed.hit_frames.front()}, run_program(*strip), {}, {}});
  return {};
}

Result<void> BenchSuite::add_call_cost() {
  auto calls = BenchObject::load("bench_call_cost", bench_call_cost__elf_bytes, {});
  if (!calls) return std::unexpected(calls.error());
  auto helper = calls->program_fd("helper_calls");
  auto subprog = calls->program_fd("subprog_calls");
  if (!helper) return std::unexpected(helper.error());
  if (!subprog) return std::unexpected(subprog.error());
  objects_.push_back(std::move(*calls));
  cases_.push_back({"exp_helper_calls", fmt::format("exp {} bpf_xdp_get_buff_len() calls", kCallCostCalls),
                    CaseGroup::experiment, XDP_PASS, {unknown_unicast_frame()}, run_program(*helper), {}, {}});
  cases_.push_back({"exp_subprog_calls", fmt::format("exp {} BPF-to-BPF calls", kCallCostCalls),
                    CaseGroup::experiment, XDP_PASS, {unknown_unicast_frame()}, run_program(*subprog), {}, {}});
  return {};
}

// Case ids: exp_<name>_hit and exp_<name>_miss at kMaxFilters, with a
// _<filters> suffix at other counts.
Result<void> BenchSuite::add_experiment(const ExperimentVariant& variant, std::uint32_t filters) {
  auto loaded = load_experiment(variant);
  if (!loaded) return std::unexpected(loaded.error());
  auto program = loaded->program_fd("vmq_classify");
  if (!program) return std::unexpected(program.error());
  const BenchObject& object = objects_.emplace_back(std::move(*loaded));
  ExperimentTables tables(object, variant);
  auto installed = install_filters(tables, filters, flows_, sockets_);
  if (!installed) return std::unexpected(installed.error());

  const std::string suffix = filters == kMaxFilters ? "" : fmt::format("_{}", filters);
  const std::string n = filters_label(filters);
  cases_.push_back({fmt::format("exp_{}_hit{}", variant.name, suffix), fmt::format("exp {} hit, {}", variant.name, n),
                    CaseGroup::experiment, XDP_REDIRECT, installed->hit_frames, run_program(*program), {}, {}});
  cases_.push_back({fmt::format("exp_{}_miss{}", variant.name, suffix), fmt::format("exp {} miss, {}", variant.name, n),
                    CaseGroup::experiment, XDP_PASS, {installed->miss_frame}, run_program(*program), {}, {}});
  return {};
}

}  // namespace vmq::bench
