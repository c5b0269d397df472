#include "bench_object.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iterator>

#include "os/xdp_test_run.h"

namespace vmq::bench {
namespace {

Result<bpf_map*> find_map(bpf_object* object, std::string_view name) {
  bpf_map* map = bpf_object__find_map_by_name(object, std::string(name).c_str());
  if (!map) return fail(Errc::not_found, fmt::format("no map {} in BPF object {}", name, bpf_object__name(object)));
  return map;
}

Result<std::string> map_name(int fd) {
  bpf_map_info info{};
  std::uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(fd, &info, &len)) return fail_errno(errno, "reading a map's info");
  return std::string(info.name);
}

Result<std::vector<std::uint32_t>> map_ids_of_program(int program_fd) {
  bpf_prog_info info{};
  std::uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(program_fd, &info, &len)) return fail_errno(errno, "reading a program's info");
  std::vector<std::uint32_t> ids(info.nr_map_ids);
  info = bpf_prog_info{};
  info.nr_map_ids = static_cast<std::uint32_t>(ids.size());
  info.map_ids = reinterpret_cast<std::uintptr_t>(ids.data());
  len = sizeof info;
  if (bpf_obj_get_info_by_fd(program_fd, &info, &len)) return fail_errno(errno, "reading a program's map ids");
  ids.resize(std::min<std::size_t>(ids.size(), info.nr_map_ids));
  return ids;
}

}  // namespace

Result<BenchObject> BenchObject::load(const std::string& label, ElfBytesFn elf_bytes) {
  std::size_t size = 0;
  const void* bytes = elf_bytes(&size);
  LIBBPF_OPTS(bpf_object_open_opts, open_opts);
  open_opts.object_name = label.c_str();
  bpf_object* object = bpf_object__open_mem(bytes, size, &open_opts);
  if (!object) return fail_errno(errno, fmt::format("opening BPF object {}", label));
  BenchObject owner(object);
  if (int err = bpf_object__load(object)) return fail_errno(-err, fmt::format("loading BPF object {}", label));
  return owner;
}

BenchObject& BenchObject::operator=(BenchObject&& other) noexcept {
  if (this != &other) {
    if (object_) bpf_object__close(object_);
    object_ = std::exchange(other.object_, nullptr);
  }
  return *this;
}

BenchObject::~BenchObject() {
  if (object_) bpf_object__close(object_);
}

Result<int> BenchObject::program_fd(std::string_view name) const {
  bpf_program* program = bpf_object__find_program_by_name(object_, std::string(name).c_str());
  if (!program) return fail(Errc::not_found, fmt::format("no program {} in {}", name, bpf_object__name(object_)));
  return bpf_program__fd(program);
}

Result<int> BenchObject::map_fd(std::string_view name) const {
  auto map = find_map(object_, name);
  if (!map) return std::unexpected(map.error());
  return bpf_map__fd(*map);
}

std::string xdp_action_name(std::uint32_t action) {
  constexpr const char* names[] = {"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"};
  return action < std::size(names) ? names[action] : fmt::format("action {}", action);
}

Result<RunSample> test_run(int program_fd, std::span<const std::uint8_t> frame, std::uint32_t repeat) {
  auto run = os::run_xdp_test(program_fd, {.frame = frame, .repeat = repeat});
  if (!run) return std::unexpected(run.error());
  return RunSample{run->action, run->duration_ns, std::move(run->frame)};
}

Result<std::vector<NamedMap>> maps_of_program(int program_fd) {
  auto ids = map_ids_of_program(program_fd);
  if (!ids) return std::unexpected(ids.error());
  std::vector<NamedMap> maps;
  for (std::uint32_t id : *ids) {
    UniqueFd fd(bpf_map_get_fd_by_id(id));
    if (fd.get() < 0) return fail_errno(errno, fmt::format("opening map id {}", id));
    auto name = map_name(fd.get());
    if (!name) return std::unexpected(name.error());
    maps.push_back({std::move(*name), std::move(fd)});
  }
  return maps;
}

}  // namespace vmq::bench
