#!/usr/bin/env bash
# Builds vmq in Release and runs every benchmark, printing one report:
#   vmq-bench-classifier  ns per frame of the XDP classifier (BPF_PROG_TEST_RUN)
#   vmq-bench-datapath    classified receive vs a raw AF_XDP socket, delivery into
#                         8 VMs vs the Linux bridge, vmqd's memory with 1/64/512 queues
#   vmq-bench-checksum    ns per frame the worker spends on deferred checksums
#
#   deploy/bench.sh [--build DIR] [--out DIR] [--rounds N] [--skip-build]
#                   [-- more vmq-bench-datapath options, e.g. --cases receive --window 2]
#
# --build  build directory (default: build-bench/ in the source tree), configured
#          with -DCMAKE_BUILD_TYPE=Release through deploy/build.sh
# --out    where the report (report.md), the raw numbers (datapath.json,
#          classifier.json) and vmqd's logs go (default: /tmp/vmq-bench-DATE)
# --rounds interleaved rounds of each side-by-side case (default 5)
#
# Needs root. Makes network namespaces bn-rx, bn-dp-* (deploy/lab.sh) and bn-mem,
# and removes them, with every link, XDP program and process in them, on exit,
# also on failure or Ctrl-C. Only one bench.sh runs at a time (a lock).
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=$src/build-bench
out=/tmp/vmq-bench-$(date -u +%Y%m%d-%H%M%S)
rounds=5
skip_build=0
datapath_args=()
command_line="$0 $*"
while (($#)); do
  case $1 in
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --skip-build) skip_build=1; shift ;;
    --) shift; datapath_args=("$@"); break ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "bench.sh: $*" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || die "run as root (namespaces, XDP, AF_XDP)"
[[ $rounds =~ ^[1-9][0-9]?$ ]] && ((rounds <= 20)) || die "--rounds must be 1..20"

receive_ns=bn-rx lab=bn-dp memory_ns=bn-mem memory_ports=512
bench_pid=

exec 9>/run/vmq-bench.lock
flock -n 9 || die "another bench.sh is running (lock /run/vmq-bench.lock)"

remove_namespace() {  # kills what runs inside first, so every socket closes before the namespace goes
  ip netns pids "$1" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
  ip netns del "$1" 2>/dev/null || true
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -n $bench_pid ]] && kill -0 "$bench_pid" 2>/dev/null; then
    kill -TERM "$bench_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$bench_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$bench_pid" 2>/dev/null || true
  fi
  "$src/deploy/lab.sh" down --name "$lab" >/dev/null 2>&1 || true
  remove_namespace "$receive_ns"
  remove_namespace "$memory_ns"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

quiet_namespace() {  # no IPv6 chatter in the counters
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$1" link set lo up
}

make_receive_namespace() {  # veth pairs g<case> -> r<case>, one per receive case
  ip netns add "$receive_ns"
  quiet_namespace "$receive_ns"
  local c
  for c in raw vmq drop; do
    ip -n "$receive_ns" link add "g$c" numrxqueues 1 numtxqueues 1 type veth peer name "r$c" numrxqueues 1 numtxqueues 1
    ip -n "$receive_ns" link set "g$c" up
    ip -n "$receive_ns" link set "r$c" up
  done
}

make_memory_namespace() {  # an uplink and plain veth ports mp1..mpN (peers mv1..mvN)
  ip netns add "$memory_ns"
  quiet_namespace "$memory_ns"
  {
    echo "link add mup0 type veth peer name mwire0"
    echo "link set mup0 up"
    echo "link set mwire0 up"
    for ((n = 1; n <= memory_ports; n++)); do
      echo "link add mp$n type veth peer name mv$n"
      echo "link set mp$n up"
      echo "link set mv$n up"
    done
  } | ip -n "$memory_ns" -batch -
}

# Leftovers of a bench.sh that was killed outright (the lock says none runs now).
"$src/deploy/lab.sh" down --name "$lab" >/dev/null 2>&1 || true
remove_namespace "$receive_ns"
remove_namespace "$memory_ns"

mkdir -p "$out"
if ((!skip_build)); then
  echo "== build (Release) in $build" >&2
  "$src/deploy/build.sh" "$build" -DCMAKE_BUILD_TYPE=Release
fi
classifier=$build/tests/bench/vmq-bench-classifier
datapath=$build/tests/bench/datapath/vmq-bench-datapath
checksum=$build/tests/bench/vmq-bench-checksum
[[ -x $classifier ]] || die "$classifier is missing: build failed?"
[[ -x $checksum ]] || die "$checksum is missing: build failed?"
[[ -x $datapath ]] || die "$datapath is missing: tests/bench/CMakeLists.txt needs add_subdirectory(datapath)"

echo "== namespaces" >&2
make_receive_namespace
"$src/deploy/lab.sh" up --name "$lab" --vms 8 --port-queues 2 >/dev/null  # 2: the subqueues case
make_memory_namespace

echo "== vmq-bench-classifier" >&2
"$classifier" --rounds "$rounds" --cpu 1 --json-out "$out/classifier.json" >"$out/classifier.md" &
bench_pid=$!
wait "$bench_pid"

echo "== vmq-bench-checksum" >&2
taskset -c 1 "$checksum" --rounds "$rounds" >"$out/checksum.txt"

echo "== vmq-bench-datapath" >&2
"$datapath" --rounds "$rounds" --receive-netns "$receive_ns" --lab "$lab" --memory-netns "$memory_ns" \
  --memory-uplink mup0 --memory-port-prefix mp --workdir "$out/work" --json-out "$out/datapath.json" \
  "${datapath_args[@]}" >"$out/datapath.md" &
bench_pid=$!
wait "$bench_pid"
bench_pid=

{
  echo "# vmq benchmarks"
  echo
  echo "Command: \`$command_line\` (source $src, build $build)  "
  echo "Raw numbers: $out/datapath.json, $out/classifier.json"
  echo
  cat "$out/datapath.md"
  echo "## XDP classifier (vmq-bench-classifier)"
  echo
  cat "$out/classifier.md"
  echo
  echo "## Deferred checksums in the worker (vmq-bench-checksum, CPU 1)"
  echo
  echo '```'
  cat "$out/checksum.txt"
  echo '```'
} >"$out/report.md"
cat "$out/report.md"
