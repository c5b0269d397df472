#include "service/daemon.h"

#include <fcntl.h>
#include <sys/file.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>

#include <fmt/format.h>

#include "core/attach_policy.h"
#include "os/cpu_times.h"
#include "os/netdev.h"
#include "os/xdp_attachment.h"
#include "service/metrics_render.h"
#include "service/metrics_snapshot.h"
#include "service/queue_operations.h"

namespace vmq::service {

namespace asio = boost::asio;

namespace {

constexpr auto kUplinkCheckPeriod = std::chrono::seconds(1);
// At shutdown, longer than any request under way takes: a drain
// (QueueLimits::drain_timeout) and a worker's answer, or the three answers of
// a move that fails (os::Worker::kCommandTimeout each).
constexpr auto kRequestsAtShutdown = std::chrono::seconds(20);

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

QueueLimits limits_of(const AgentConfig& c) {
  QueueLimits l;
  l.max_queues = c.max_queues;
  l.max_filters = c.max_filters;
  l.frames_default = c.queue_frames;
  l.frames_max = std::min<std::uint32_t>(4096, c.umem_frames_per_rxq);
  l.frames_min = std::min(l.frames_min, l.frames_max);
  return l;
}

void notify(const std::string& state) { sd_notify(0, state.c_str()); }

}  // namespace

Daemon::Daemon(ConfigLoader load_config, AgentConfig config, Logger& logger)
    : load_config_(std::move(load_config)),
      config_(std::move(config)),
      logger_(logger),
      signals_(io_, SIGTERM, SIGINT, SIGHUP),
      uplink_timer_(io_),
      watchdog_timer_(io_),
      store_(config_.state_dir) {}

Daemon::~Daemon() = default;

Result<std::unique_ptr<Daemon>> Daemon::start(ConfigLoader load_config, Logger& logger) {
  auto config = load_config();
  if (!config) return std::unexpected(config.error());
  if (config->uplinks.empty())
    return fail(Errc::invalid_argument, "no uplinks configured: set 'uplinks' in the configuration or pass --uplink");
  if (config->host_id.empty()) config->host_id = host_name();
  logger.set_level(config->log_level);
  std::unique_ptr<Daemon> daemon(new Daemon(std::move(load_config), std::move(*config), logger));
  if (auto ok = daemon->open(); !ok) return std::unexpected(ok.error());
  return daemon;
}

Result<void> Daemon::open() {
  const LogSink log = logger_.sink();
  // libbpf and libxdp narrate a lot, and some of their warnings are expected
  // (libxdp's dispatcher probe fails on kernels that refuse it): they go to
  // the debug level, and vmqd's own messages say what matters.
  os::route_library_logs([log](LogLevel, std::string_view message) { log(LogLevel::debug, message); });

  // One agent per state directory.
  std::error_code ec;
  std::filesystem::create_directories(config_.state_dir, ec);
  if (ec) return fail(Errc::system, fmt::format("creating state directory {}: {}", config_.state_dir, ec.message()));
  const std::string lock_path = config_.state_dir + "/vmqd.lock";
  state_lock_.reset(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!state_lock_) return fail_errno(errno, fmt::format("opening {}", lock_path));
  if (flock(state_lock_.get(), LOCK_EX | LOCK_NB) != 0)
    return fail(Errc::conflict, fmt::format("another vmqd uses the state directory {}", config_.state_dir));

  auto saved = store_.load();
  if (!saved) return std::unexpected(saved.error());

  auto online = os::online_cpus();
  if (!online) return std::unexpected(online.error());
  Placement placement(config_.cpus, *online);
  if (placement.cpus().empty())
    return fail(Errc::invalid_argument, "none of the configured CPUs ('cpus') is online");

  auto attach_policy = parse_attach_policy(config_.xdp_attach);
  if (!attach_policy) return std::unexpected(attach_policy.error());
  // A queue's sub-queues are each on an allowed CPU of their own.
  const auto max_sub_queues = static_cast<std::uint32_t>(std::min<std::size_t>(placement.cpus().size(), kMaxSubQueues));
  os::DataplaneConfig dataplane_config{config_.uplinks,    config_.umem_frames_per_rxq, *attach_policy,
                                       config_.max_queues, config_.max_filters,         max_sub_queues,
                                       vhost::VhostUserSettings{{config_.vhost_user_socket_mode, config_.vhost_user_socket_group},
                                                                config_.vhost_user_bridge}};
  auto dataplane = os::BpfDataplane::create(dataplane_config, log);
  if (!dataplane) return std::unexpected(dataplane.error());
  dataplane_ = std::move(*dataplane);
  QueueEvents* events = this;
  manager_ = std::make_unique<QueueManager>(limits_of(config_), std::move(placement), *dataplane_, events);
  // Restoring may wait (for a port the kernel still releases): on the loop,
  // before it serves anything.
  asio::co_spawn(io_, restore_saved_queues(*saved), asio::detached);
  io_.run();
  io_.restart();

  api_ = std::make_unique<ControlApi>(*manager_, *dataplane_, *dataplane_,
                                      AgentInfo{VMQ_VERSION, config_.host_id, std::chrono::steady_clock::now()},
                                      [this] { return save_state(); });
  auto server = ControlServer::open(io_, config_.socket_path, config_.socket_group, *api_, log);
  if (!server) return std::unexpected(server.error());
  server_ = std::move(*server);
  metrics_ = std::make_unique<MetricsEndpoint>(io_, [this] { return render_metrics(); }, log);
  rebalancing_ = std::make_unique<Rebalancing>(io_, *manager_, *dataplane_, os::cpu_softirq_times,
                                               [this] { return save_state(); }, log);
  rebalancing_->configure(config_.rebalance);
  api_->show_rebalancing(rebalancing_.get());
  return {};
}

std::string Daemon::render_metrics() const {
  AgentMetrics agent;
  agent.version = VMQ_VERSION;
  agent.start_time_seconds = std::chrono::duration<double>(started_.time_since_epoch()).count();
  MetricsSnapshot snapshot = collect_metrics(*manager_, *dataplane_, agent, api_->migrations());
  snapshot.rebalancing = rebalancing_metrics(*rebalancing_);
  return service::render_metrics(snapshot);
}

asio::awaitable<void> Daemon::restore_saved_queues(const std::vector<SavedQueue>& saved) {
  QueueOperations operations(*manager_);
  for (const auto& s : saved) {
    if (auto ok = co_await operations.restore(s.queue, s.filters); !ok) {
      logger_.log(LogLevel::error, fmt::format("queue {} from the saved state was not restored: {}", s.queue.name,
                                               ok.error().message));
      continue;
    }
    const Queue* q = manager_->queue(s.queue.id);
    if (!q->last_error.empty())
      logger_.log(LogLevel::error, fmt::format("queue {} restored but not running: {} (fix it, then: vmqctl queue "
                                               "resume {})",
                                               q->name, q->last_error, q->name));
  }
  if (!saved.empty())
    logger_.log(LogLevel::info, fmt::format("restored {} of {} saved queue(s)", manager_->queues().size(), saved.size()));
}

Result<void> Daemon::save_state() {
  std::vector<SavedQueue> out;
  for (const Queue* q : manager_->queues()) {
    SavedQueue s{*q, {}};
    for (const Filter* f : manager_->filters_of(q->id)) s.filters.push_back(*f);
    out.push_back(std::move(s));
  }
  return store_.save(out);
}

void Daemon::run() {
  server_->start();
  metrics_->configure(config_.metrics_listen);
  watch_signals();
  watch_uplinks();
  std::uint64_t watchdog_usec = 0;
  if (sd_watchdog_enabled(0, &watchdog_usec) > 0) keep_watchdog_fed(std::chrono::microseconds(watchdog_usec / 2));
  logger_.log(LogLevel::notice, fmt::format("vmqd {} ready: {} queue(s), control socket {}", VMQ_VERSION,
                                            manager_->queues().size(), config_.socket_path));
  notify(fmt::format("READY=1\nSTATUS=serving {} queue(s) on {}", manager_->queues().size(),
                     fmt::join(config_.uplinks, ", ")));
  io_.run();
}

void Daemon::watch_signals() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      reload();
      watch_signals();
      return;
    }
    logger_.log(LogLevel::notice, fmt::format("{} received: stopping", signal == SIGTERM ? "SIGTERM" : "SIGINT"));
    asio::co_spawn(io_, shutdown(), asio::detached);
  });
}

void Daemon::watch_uplinks() {
  manager_->sample_worker_load(dataplane_->worker_samples(), std::chrono::steady_clock::now());
  for (const auto& u : dataplane_->check_attachments()) {
    if (u.degraded)
      logger_.log(LogLevel::error, fmt::format("uplink {} degraded: {}", u.name, u.degraded_reason));
    else
      logger_.log(LogLevel::notice, fmt::format("uplink {}: the classifier is attached again", u.name));
  }
  uplink_timer_.expires_after(kUplinkCheckPeriod);
  uplink_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) watch_uplinks();
  });
}

void Daemon::keep_watchdog_fed(std::chrono::microseconds interval) {
  notify("WATCHDOG=1");
  watchdog_timer_.expires_after(interval);
  watchdog_timer_.async_wait([this, interval](const boost::system::error_code& ec) {
    if (!ec) keep_watchdog_fed(interval);
  });
}

void Daemon::reload() {
  notify("RELOADING=1");
  auto fresh = load_config_();
  if (!fresh) {
    logger_.log(LogLevel::error, fmt::format("reload refused, keeping the running configuration: {}",
                                             fresh.error().message));
    notify("READY=1");
    return;
  }
  AgentConfig& c = *fresh;
  if (c.host_id.empty()) c.host_id = config_.host_id;
  logger_.set_level(c.log_level);
  if (c.socket_group != config_.socket_group) server_->set_group(c.socket_group);
  metrics_->configure(c.metrics_listen);
  if (c.cpus != config_.cpus) {
    auto online = os::online_cpus();
    Placement placement(c.cpus, online ? *online : std::set<unsigned>{});
    if (placement.cpus().empty()) {
      logger_.log(LogLevel::error, "reload: none of the configured CPUs is online; keeping the previous CPUs");
      c.cpus = config_.cpus;
    } else {
      manager_->set_placement(std::move(placement));
    }
  }
  rebalancing_->configure(c.rebalance);
  if (c.rebalance.policy.enabled != config_.rebalance.policy.enabled)
    logger_.log(LogLevel::notice, fmt::format("rebalance: {}", c.rebalance.policy.enabled ? "enabled" : "disabled"));
  std::vector<std::string> needs_restart;
  if (c.uplinks != config_.uplinks) needs_restart.push_back("uplinks");
  if (c.max_queues != config_.max_queues) needs_restart.push_back("max_queues");
  if (c.max_filters != config_.max_filters) needs_restart.push_back("max_filters");
  if (c.umem_frames_per_rxq != config_.umem_frames_per_rxq) needs_restart.push_back("umem_frames_per_rxq");
  if (c.queue_frames != config_.queue_frames) needs_restart.push_back("queue_frames");
  if (c.xdp_attach != config_.xdp_attach) needs_restart.push_back("xdp_attach");
  if (c.socket_path != config_.socket_path) needs_restart.push_back("socket");
  if (c.state_dir != config_.state_dir) needs_restart.push_back("state_dir");
  if (c.host_id != config_.host_id) needs_restart.push_back("host_id");
  if (!needs_restart.empty())
    logger_.log(LogLevel::warning, fmt::format("reload: {} changed and will apply at the next restart",
                                               fmt::join(needs_restart, ", ")));
  // What cannot change at run time keeps its running value.
  config_.log_level = c.log_level;
  config_.socket_group = c.socket_group;
  config_.cpus = c.cpus;
  config_.metrics_listen = c.metrics_listen;
  config_.rebalance = c.rebalance;
  logger_.log(LogLevel::notice, "configuration reloaded");
  notify("READY=1");
}

asio::awaitable<void> Daemon::shutdown() {
  notify("STOPPING=1");
  rebalancing_->stop();
  server_->stop();
  metrics_->stop();
  uplink_timer_.cancel();
  watchdog_timer_.cancel();
  // A request under way (a queue.del's drain) ends first, so that its
  // change is saved and answered.
  co_await server_->wait_until_answered(kRequestsAtShutdown);
  // New frames take the default path; what the queues hold is delivered.
  QueueOperations operations(*manager_);
  const std::vector<Error> errors = co_await operations.quiesce();
  for (const auto& error : errors) logger_.log(LogLevel::warning, error.message);
  // Sockets close and the classifier is detached; the saved state keeps
  // every queue for the next start.
  manager_.reset();
  dataplane_.reset();
  logger_.log(LogLevel::notice, "stopped: queues drained, classifier detached");
  io_.stop();
}

void Daemon::state_changed(const Queue& queue, QueueState from, QueueState to) {
  logger_.log(LogLevel::info, fmt::format("queue {} (id {}): {} -> {}", queue.name, queue.id, to_string(from),
                                          to_string(to)));
}

void Daemon::dma_stopped(const Queue& queue) {
  logger_.log(LogLevel::info, fmt::format("queue {} (id {}): DMA stopped", queue.name, queue.id));
}

void Daemon::publish_failed(const Queue& queue, const Error& error) {
  logger_.log(LogLevel::warning, fmt::format("queue {} (id {}): the classifier's copy of its state is stale while "
                                             "it is freed (it has no filters, so no frame reaches it): {}",
                                             queue.name, queue.id, error.message));
}

}  // namespace vmq::service
