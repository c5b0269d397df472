// One run of the hook: libvirt's operation on a domain, mapped to vmqd
// requests. libvirt calls qemu.d/vmq DOMAIN OPERATION SUB-OPERATION EXTRA with
// the domain XML on stdin; this decides the exit status libvirt sees.
#pragma once

#include <string>

#include "libvirt_hook/hook_config.h"
#include "libvirt_hook/hook_log.h"

namespace vmq::libvirt_hook {

struct Invocation {
  std::string domain;
  std::string operation;  // prepare, start, started, stopped, release, migrate, restore, reconnect, attach
  std::string sub_operation;
  std::string extra;
};

// What an operation asks of vmq.
enum class Action {
  give_queues,    // started, attach, reconnect
  remove_queues,  // stopped, release
  none,           // prepare, start, migrate, restore: the tap is not there yet (or is the source's)
};

Action action_for(std::string_view operation);

// Whether a failure of this operation makes the hook exit non-zero. Never for
// reconnect: libvirt kills a running domain whose reconnect hook fails.
bool may_fail(const Invocation& invocation, const HookConfig& config);

// Runs the operation; returns the exit status for libvirt.
int run_hook(const Invocation& invocation, const std::string& domain_xml, const HookConfig& config,
             const HookLog& log);

}  // namespace vmq::libvirt_hook
