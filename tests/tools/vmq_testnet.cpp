// vmq-testnet: the lab's traffic tool. `send` transmits a paced stream of
// sequenced UDP frames (any VLAN tags; UDP checksum none, complete or
// deferred) on an interface; `recv` counts the test frames an interface
// receives, per flow, destination MAC and VLAN tag, checks their UDP
// checksums, and reports sequence gaps, duplicates and reordering as JSON;
// `tap-read` creates taps and reads them as QEMU's tap back end does.
// Every loop is bounded by a frame count and a time limit.
#include <CLI/CLI.hpp>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "testnet_frames.h"
#include "testnet_socket.h"
#include "testnet_tap.h"
#include "testnet_udp_sink.h"

namespace {

using namespace vmq::testnet;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct SendOptions {
  std::string iface, src = "02:00:00:00:00:fe", dst_ip = "10.77.0.11", src_ip = "10.77.0.1";
  std::vector<std::string> dsts;  // round robin over them
  std::vector<std::uint16_t> vlans;
  std::uint32_t flow = 0, flows = 1;  // flows: round robin over flow .. flow+flows-1
  std::uint64_t count = 1000, start_seq = 0;
  double rate = 10000;  // frames per second; 0: as fast as possible
  std::uint32_t burst = 1;  // frames sent back to back, then a sleep until the next burst is due
  std::size_t size = 64;
  double max_seconds = 60;
  UdpChecksum checksum = UdpChecksum::none;
};

int send_stream(const SendOptions& o) {
  std::string error;
  auto socket = PacketSocket::open(o.iface, error);
  std::vector<vmq::MacAddress> dsts;
  for (const auto& text : o.dsts)
    if (auto dst = vmq::MacAddress::parse(text)) dsts.push_back(*dst);
  auto src = vmq::MacAddress::parse(o.src);
  auto dst_ip = parse_ipv4(o.dst_ip.c_str());
  auto src_ip = parse_ipv4(o.src_ip.c_str());
  if (!socket || dsts.size() != o.dsts.size() || !src || !dst_ip || !src_ip) {
    std::fprintf(stderr, "vmq-testnet send: %s\n", !socket ? error.c_str() : "invalid MAC or IP address");
    return 2;
  }
  // Each flow has its own source port, so the kernel spreads flows over the
  // interface's transmit queues (and the peer's rx queues).
  std::vector<StreamSpec> specs;
  for (const auto& dst : dsts)
    for (std::uint32_t f = 0; f < o.flows; ++f)
      specs.push_back({dst, *src, o.vlans, *src_ip, *dst_ip, static_cast<std::uint16_t>(40000 + o.flow + f), 9,
                       o.flow + f, o.size, o.checksum});
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(o.max_seconds);
  std::uint64_t sent = 0, busy = 0;
  while (sent < o.count && Clock::now() < deadline) {
    if (o.rate > 0 && sent % o.burst == 0) {
      const auto due = start + std::chrono::duration<double>(static_cast<double>(sent) / o.rate);
      const auto now = Clock::now();
      // Bursts sleep, so a rate-limited generator leaves its CPU to others;
      // single frames spin the last 100 us, so they leave on time.
      if (o.burst > 1 || due > now + std::chrono::microseconds(100)) std::this_thread::sleep_until(due);
      else while (Clock::now() < due) {}
    }
    const auto frame = build_frame(specs[sent % specs.size()], o.start_seq + sent / specs.size());
    if (socket->send(frame, error)) {
      ++sent;
    } else if (!error.empty()) {
      std::fprintf(stderr, "vmq-testnet send: %s\n", error.c_str());
      return 1;
    } else {
      ++busy;
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("%s\n", json{{"sent", sent}, {"seconds", seconds}, {"busy_retries", busy},
                           {"first_seq", o.start_seq}, {"complete", sent == o.count}}.dump().c_str());
  return sent == o.count ? 0 : 1;
}

struct FlowRecord {
  std::uint64_t frames = 0, duplicates = 0, reordered = 0;
  std::uint64_t last_seq = 0;
  Clock::time_point last_arrival{};
  double longest_silence_ms = 0;  // the longest time between two frames of the flow
  std::uint64_t silence_after_seq = 0, silence_before_seq = 0;
  std::set<std::uint64_t> seen;
  std::map<std::string, std::uint64_t> by_vlan;  // "untagged" or the VID
};

json gaps_of(const std::set<std::uint64_t>& seen, std::uint64_t first, std::uint64_t last) {
  json gaps = json::array();
  std::uint64_t missing = 0, expected = first;
  for (std::uint64_t s : seen) {
    if (s > expected) {
      missing += s - expected;
      if (gaps.size() < 64) gaps.push_back({expected, s - 1});
    }
    expected = s + 1;
  }
  if (last + 1 > expected) {
    missing += last + 1 - expected;
    if (gaps.size() < 64) gaps.push_back({expected, last});
  }
  return json{{"missing", missing}, {"ranges", gaps}};
}

struct RecvOptions {
  std::string iface;
  std::optional<std::uint16_t> listen_udp;  // absorb the stream, so the guest sends no ICMP back
  double seconds = 10, idle_exit = 0;
  std::uint64_t expect = 0;
  std::optional<std::uint64_t> first_seq, last_seq;  // to count gaps at the edges too
};

int receive(const RecvOptions& o) {
  std::string error;
  auto socket = PacketSocket::open(o.iface, error);
  if (!socket) {
    std::fprintf(stderr, "vmq-testnet recv: %s\n", error.c_str());
    return 2;
  }
  std::optional<UdpSink> sink;
  if (o.listen_udp) {
    sink = UdpSink::open(*o.listen_udp, error);
    if (!sink) {
      std::fprintf(stderr, "vmq-testnet recv: %s\n", error.c_str());
      return 2;
    }
  }
  std::fprintf(stderr, "ready\n");
  std::fflush(stderr);
  std::map<std::uint32_t, FlowRecord> flows;
  std::map<std::string, std::uint64_t> by_dst;
  std::uint64_t test_frames = 0, other_frames = 0;
  std::map<std::string, std::uint64_t> checksums;  // "none", "valid", "invalid"
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(o.seconds);
  auto last_frame = start;
  while (Clock::now() < deadline) {
    if (o.expect && test_frames >= o.expect) break;
    if (o.idle_exit > 0 && test_frames > 0 &&
        Clock::now() - last_frame > std::chrono::duration<double>(o.idle_exit))
      break;
    if (sink) sink->drain();
    auto frame = socket->receive(50);
    if (!frame || frame->bytes.empty()) continue;
    auto payload = parse_frame(frame->bytes);
    if (!payload) {
      ++other_frames;
      continue;
    }
    last_frame = Clock::now();
    ++test_frames;
    const ChecksumCheck check = check_udp_checksum(frame->bytes);
    ++checksums[check == ChecksumCheck::none ? "none" : check == ChecksumCheck::valid ? "valid" : "invalid"];
    std::array<std::uint8_t, 6> dst{};
    std::copy_n(frame->bytes.begin(), 6, dst.begin());
    ++by_dst[vmq::MacAddress(dst).to_string()];
    FlowRecord& f = flows[payload->flow];
    if (!f.seen.insert(payload->seq).second) ++f.duplicates;
    if (f.frames > 0 && payload->seq < f.last_seq) ++f.reordered;
    if (f.frames > 0) {
      const double silence = std::chrono::duration<double, std::milli>(last_frame - f.last_arrival).count();
      if (silence > f.longest_silence_ms) {
        f.longest_silence_ms = silence;
        f.silence_after_seq = f.last_seq;
        f.silence_before_seq = payload->seq;
      }
    }
    f.last_arrival = last_frame;
    f.last_seq = payload->seq;
    ++f.frames;
    ++f.by_vlan[frame->vlan ? std::to_string(*frame->vlan) : "untagged"];
  }
  json out{{"test_frames", test_frames}, {"other_frames", other_frames}, {"by_dst", by_dst},
           {"udp_checksums", checksums}, {"flows", json::object()}};
  for (auto& [id, f] : flows) {
    const std::uint64_t first = o.first_seq.value_or(*f.seen.begin());
    const std::uint64_t last = o.last_seq.value_or(*f.seen.rbegin());
    out["flows"][std::to_string(id)] = {{"frames", f.frames},       {"unique", f.seen.size()},
                                        {"duplicates", f.duplicates}, {"reordered", f.reordered},
                                        {"first_seq", *f.seen.begin()}, {"last_seq", *f.seen.rbegin()},
                                        {"by_vlan", f.by_vlan},       {"gaps", gaps_of(f.seen, first, last)},
                                        {"longest_silence", {{"ms", f.longest_silence_ms},
                                                             {"after_seq", f.silence_after_seq},
                                                             {"before_seq", f.silence_before_seq}}}};
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

struct TapReadOptions {
  std::vector<std::string> taps;
  double seconds = 60;
};

std::atomic<bool> stop_reading{false};

struct TapCount {
  std::uint64_t frames = 0, bytes = 0;
};

// One thread per tap, as each VM's QEMU reads its own tap: wait for the tap
// to be readable, then read frames until it is empty.
TapCount read_tap(const Tap& tap, Clock::time_point deadline) {
  TapCount count;
  std::vector<std::uint8_t> buffer(65536);
  pollfd waiting{tap.fd(), POLLIN, 0};
  while (!stop_reading && Clock::now() < deadline) {
    if (poll(&waiting, 1, 50) <= 0) continue;
    for (;;) {
      const ssize_t n = ::read(tap.fd(), buffer.data(), buffer.size());
      if (n <= 0) break;
      ++count.frames;
      count.bytes += static_cast<std::uint64_t>(n);
    }
  }
  return count;
}

int read_taps(const TapReadOptions& o) {
  std::vector<Tap> taps;
  for (const auto& name : o.taps) {
    std::string error;
    auto tap = Tap::open(name, error);
    if (!tap) {
      std::fprintf(stderr, "vmq-testnet tap-read: %s\n", error.c_str());
      return 2;
    }
    taps.push_back(std::move(*tap));
  }
  std::signal(SIGTERM, [](int) { stop_reading = true; });
  std::signal(SIGINT, [](int) { stop_reading = true; });
  std::fprintf(stderr, "ready\n");
  std::fflush(stderr);
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  std::vector<TapCount> counts(taps.size());
  std::vector<std::thread> readers;
  for (std::size_t i = 0; i < taps.size(); ++i)
    readers.emplace_back([&, i] { counts[i] = read_tap(taps[i], deadline); });
  for (auto& r : readers) r.join();
  json out{{"taps", json::object()}};
  for (std::size_t i = 0; i < taps.size(); ++i)
    out["taps"][taps[i].name()] = {{"frames", counts[i].frames}, {"bytes", counts[i].bytes}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vmq-testnet: bounded test traffic for the vmq lab"};
  app.require_subcommand(1);
  SendOptions s;
  auto* send = app.add_subcommand("send", "send a paced stream of sequenced UDP frames");
  send->add_option("--iface", s.iface, "interface to send on")->required();
  send->add_option("--dst", s.dsts, "destination MAC (repeat: round robin over them)")->required();
  send->add_option("--src", s.src, "source MAC");
  send->add_option("--vlan", s.vlans, "VLAN tag (repeat for QinQ, outer first)")->check(CLI::Range(0, 4095));
  send->add_option("--dst-ip", s.dst_ip, "destination IPv4 address");
  send->add_option("--src-ip", s.src_ip, "source IPv4 address");
  send->add_option("--flow", s.flow, "flow id carried in the payload");
  send->add_option("--flows", s.flows, "send round robin over this many flows (ids flow, flow+1, ...)")
      ->check(CLI::Range(1, 1024));
  send->add_option("--count", s.count, "frames to send")->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100'000'000}));
  send->add_option("--start-seq", s.start_seq, "first sequence number");
  send->add_option("--rate", s.rate, "frames per second (0: as fast as possible)");
  send->add_option("--burst", s.burst, "send this many frames back to back, then sleep until the next burst is due")
      ->check(CLI::Range(1, 1024));
  send->add_option("--size", s.size, "frame size without FCS")->check(CLI::Range(64, 9000));
  send->add_option("--max-seconds", s.max_seconds, "give up after this long")->check(CLI::Range(0.1, 3600.0));
  send->add_option("--udp-checksum", s.checksum,
                   "none (0), complete, or deferred (the pseudo-header sum a sender with checksum offload leaves)")
      ->transform(CLI::CheckedTransformer(std::map<std::string, UdpChecksum>{{"none", UdpChecksum::none},
                                                                             {"complete", UdpChecksum::complete},
                                                                             {"deferred", UdpChecksum::deferred}}));
  RecvOptions r;
  auto* recv = app.add_subcommand("recv", "count test frames received on an interface (JSON on stdout)");
  recv->add_option("--iface", r.iface, "interface to listen on")->required();
  recv->add_option("--seconds", r.seconds, "listen at most this long")->check(CLI::Range(0.1, 3600.0));
  recv->add_option("--idle-exit", r.idle_exit, "stop this long after the last test frame");
  recv->add_option("--expect", r.expect, "stop once this many test frames arrived");
  recv->add_option("--listen-udp", r.listen_udp, "also bind this UDP port, so the guest does not answer with ICMP");
  recv->add_option("--first-seq", r.first_seq, "first sequence number sent (gaps before the first received)");
  recv->add_option("--last-seq", r.last_seq, "last sequence number sent (gaps after the last received)");
  TapReadOptions t;
  auto* tap_read = app.add_subcommand(
      "tap-read", "create taps and read them, a thread each, until SIGTERM or --seconds (counts as JSON)");
  tap_read->add_option("--tap", t.taps, "tap to create and read (repeat)")->required();
  tap_read->add_option("--seconds", t.seconds, "read at most this long")->check(CLI::Range(0.1, 3600.0));
  CLI11_PARSE(app, argc, argv);
  if (send->parsed()) return send_stream(s);
  if (tap_read->parsed()) return read_taps(t);
  return receive(r);
}
