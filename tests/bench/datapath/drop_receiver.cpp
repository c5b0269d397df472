#include "drop_receiver.h"

#include <bpf/libbpf.h>
#include <net/if.h>

#include <cerrno>
#include <vector>

#include <fmt/format.h>

#include "drop_count.skel.h"

namespace vmq::bench {

Result<std::unique_ptr<XdpDropReceiver>> XdpDropReceiver::create(const std::string& device) {
  const unsigned ifindex = if_nametoindex(device.c_str());
  if (ifindex == 0) return fail_errno(errno, fmt::format("device {}", device));
  std::unique_ptr<XdpDropReceiver> receiver(new XdpDropReceiver());
  receiver->skel_ = drop_count__open_and_load();
  if (!receiver->skel_) return fail_errno(errno, "loading drop_count.bpf.c");
  receiver->link_ = bpf_program__attach_xdp(receiver->skel_->progs.drop_count, static_cast<int>(ifindex));
  if (long err = libbpf_get_error(receiver->link_)) {
    receiver->link_ = nullptr;
    return fail_errno(static_cast<int>(-err), fmt::format("attaching drop_count to {}", device));
  }
  return receiver;
}

XdpDropReceiver::~XdpDropReceiver() {
  if (link_) bpf_link__destroy(link_);
  if (skel_) drop_count__destroy(skel_);
}

Result<std::uint64_t> XdpDropReceiver::frames() const {
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return fail_errno(-cpus, "counting the possible CPUs");
  std::vector<std::uint64_t> per_cpu(static_cast<std::size_t>(cpus));
  const std::uint32_t zero = 0;
  if (bpf_map__lookup_elem(skel_->maps.dropped, &zero, sizeof zero, per_cpu.data(),
                           per_cpu.size() * sizeof(std::uint64_t), 0) != 0)
    return fail_errno(errno, "reading the XDP_DROP counter");
  std::uint64_t total = 0;
  for (std::uint64_t count : per_cpu) total += count;
  return total;
}

}  // namespace vmq::bench
