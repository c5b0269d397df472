#include "libvirt_hook/hook.h"

#include <fmt/format.h>

#include "libvirt_hook/domain_xml.h"
#include "libvirt_hook/queue_plan.h"
#include "libvirt_hook/vmqd_queues.h"

namespace vmq::libvirt_hook {
namespace {

// Gives every selected interface its queue; returns the number of failures.
int give_queues(const Domain& domain, const HookConfig& config, const HookLog& log) {
  const QueuePlan plan = plan_queues(domain, config);
  for (const std::string& line : plan.skipped) log.info(line);
  int failures = 0;
  for (const std::string& line : plan.errors) {
    log.error(line);
    ++failures;
  }
  if (plan.queues.empty()) return failures;
  VmqdQueues vmqd(config.socket_path, config.timeout);
  for (const QueueRequest& request : plan.queues) {
    auto done = vmqd.ensure(request);
    if (done) {
      log.info(*done);
    } else {
      log.error(fmt::format("{}: queue {} not made: {}", request.interface, request.name, done.error().message));
      ++failures;
    }
  }
  return failures;
}

int remove_queues(const Domain& domain, const HookConfig& config, const HookLog& log) {
  int failures = 0;
  const std::vector<std::string> names = queue_names_of(domain);
  if (names.empty()) return 0;
  VmqdQueues vmqd(config.socket_path, config.timeout);
  for (const std::string& name : names) {
    auto done = vmqd.remove(name);
    if (done) {
      log.info(*done);
    } else {
      log.error(fmt::format("queue {} not removed: {}", name, done.error().message));
      ++failures;
    }
  }
  return failures;
}

}  // namespace

Action action_for(std::string_view operation) {
  if (operation == "started" || operation == "attach" || operation == "reconnect") return Action::give_queues;
  if (operation == "stopped" || operation == "release") return Action::remove_queues;
  return Action::none;
}

bool may_fail(const Invocation& invocation, const HookConfig& config) {
  return config.strict && invocation.operation != "reconnect";
}

int run_hook(const Invocation& invocation, const std::string& domain_xml, const HookConfig& config,
             const HookLog& log) {
  const Action action = action_for(invocation.operation);
  if (action == Action::none) return 0;
  int failures = 0;
  auto domain = parse_domain_xml(domain_xml);
  if (!domain) {
    log.error(domain.error().message + "; nothing done");
    failures = 1;
  } else if (domain->name != invocation.domain) {
    log.error(fmt::format("the domain XML on stdin is for domain '{}', not '{}'; nothing done", domain->name,
                          invocation.domain));
    failures = 1;
  } else {
    failures = action == Action::give_queues ? give_queues(*domain, config, log) : remove_queues(*domain, config, log);
  }
  if (failures == 0) return 0;
  if (may_fail(invocation, config)) {
    log.error(fmt::format("{} failure(s); strict mode: exit status 1", failures));
    return 1;
  }
  log.warning(fmt::format("{} failure(s); the domain goes on (strict = false{})", failures,
                          invocation.operation == "reconnect" ? "; reconnect never fails" : ""));
  return 0;
}

}  // namespace vmq::libvirt_hook
