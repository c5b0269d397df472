// The control protocol as vmqd's control server sees it: every line of the
// input is one request, decoded and handled in order by one ControlApi over
// the fake dataplane, so sequences (add, set, drain, restore...) are reached.
// Whatever the line, the reply carries the request's id and survives encode
// and decode, and a successful result decodes with the client's typed
// decoder of its method (what vmqd writes, vmqctl reads); a reply line from
// an agent decodes the same way.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>

#include "api/client.h"
#include "api/methods.h"
#include "api/protocol.h"
#include "core/placement.h"
#include "core/queue_manager.h"
#include "service/control_api.h"
#include "unit/fake_dataplane.h"
#include "unit/handle_now.h"

namespace {

using namespace vmq;

QueueLimits small_limits() {
  QueueLimits limits;
  limits.max_queues = 4;
  limits.max_filters = 8;
  return limits;
}

void check_reply(const api::Reply& reply) {
  auto again = api::decode_reply(api::encode(reply));
  if (!again || again->id != reply.id || again->error.has_value() != reply.error.has_value()) __builtin_trap();
}

// A result vmqd served, as the client reads it off the wire.
bool client_reads(const std::string& method, const api::Reply& reply) {
  auto on_wire = api::decode_reply(api::encode(reply));
  if (!on_wire) return false;
  bool read = true;
  auto check = [&](auto m) {
    if (m.name == method && !api::decode_result<decltype(m)>(on_wire->result)) read = false;
  };
  std::apply([&](auto... m) { (check(m), ...); }, api::Methods{});
  return read;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  test::FakeDataplane dataplane;
  QueueManager manager(small_limits(), Placement({}, {0, 1}), dataplane);
  service::ControlApi control(manager, dataplane, dataplane, service::AgentInfo{"0.0.0", "fuzz-host", std::chrono::steady_clock::now()},
                              [] { return Result<void>{}; });

  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);

    std::uint64_t id = 0;
    auto request = api::decode_request(line, &id);
    if (!request) {
      if (auto reply = api::decode_reply(line)) check_reply(*reply);
      continue;
    }
    const api::Reply reply = test::handle_now(control, *request);
    if (reply.id != request->id) __builtin_trap();
    check_reply(reply);
    if (!reply.error && !client_reads(request->method, reply)) __builtin_trap();
  }
  return 0;
}
