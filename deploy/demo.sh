#!/usr/bin/env bash
# The vmq demo: a KVM host in network namespaces (deploy/lab.sh), vmqd on its
# uplink, two VM queues made with vmqctl, and real traffic from the wire.
# It shows unicast frames going through each VM's queue while broadcast and
# ARP go through the host's bridge, the VMs' applications (kernel UDP and TCP
# sockets) receiving through vmq, checks that this is so, and cleans up.
# Run as root on Debian 12; installs what it needs and builds first.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
lab=vmqdemo
run_dir=/run/vmqdemo

[[ $(id -u) -eq 0 ]] || { echo "demo: run as root (network namespaces, XDP)" >&2; exit 1; }
"$src/deploy/install-deps.sh"
echo "== building vmq"
"$src/deploy/build.sh" "$src/build"
bin=$src/build
vmqctl=("$bin/cli/vmqctl" --socket "$run_dir/vmqd.sock")
testnet=$bin/tests/tools/vmq-testnet
app=("/usr/bin/python3" "$src/tests/tools/vmq_app.py")

in_ns() { local ns=$1; shift; ip netns exec "$lab-$ns" "$@"; }
ctl() { in_ns host1 "${vmqctl[@]}" "$@"; }
section() { printf '\n== %s\n' "$*"; }
wait_ready() {  # wait_ready FILE: a listener wrote "ready" to it (at most 5 s)
  for _ in $(seq 100); do grep -q '^ready' "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "demo: a listener did not start: $(cat "$1")" >&2
  return 1
}
cleanup() {
  set +e  # clean up everything, whatever fails
  if [[ -n ${vmqd_pid:-} ]]; then
    kill "$vmqd_pid" 2>/dev/null
    wait "$vmqd_pid" 2>/dev/null
  fi
  "$src/deploy/lab.sh" down --name "$lab" >/dev/null
  rm -rf "$run_dir"
}
trap cleanup EXIT

section "lab: a host (bridge br0, uplink0), two VMs behind it, a wire"
cleanup  # what an interrupted run may have left
"$src/deploy/lab.sh" up --name "$lab" --vms 2
mkdir -p "$run_dir"
# The VMs' ports neither learn nor flood unknown unicast: unicast reaches a VM
# only through its vmq queue, so what the VMs receive below came through vmq.
for vm in 1 2; do
  in_ns host1 bridge link set dev "vm${vm}port" learning off flood off
  in_ns host1 ip link set dev "vm${vm}port" type bridge_slave fdb_flush
done

section "starting vmqd on uplink0"
# Not through in_ns: $! must be vmqd itself (ip netns exec execs it).
ip netns exec "$lab-host1" "$bin/agent/vmqd" --config /dev/null --uplink uplink0 --socket "$run_dir/vmqd.sock" \
  --state-dir "$run_dir/state" --socket-group "" 2>"$run_dir/vmqd.log" &
vmqd_pid=$!
for _ in $(seq 50); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done
ctl status

section "one queue per VM (vmqctl queue add)"
ctl queue add vm1 --uplink uplink0 --port vm1port --mac 52:54:00:77:00:01 --untagged --vm vm1 --cpu 0 >/dev/null
ctl queue add vm2 --uplink uplink0 --port vm2port --mac 52:54:00:77:00:02 --untagged --vm vm2 --cpu 1 >/dev/null
ctl queue list

section "ping from the wire to each VM"
for vm in 1 2; do in_ns wire ping -c 5 -i 0.1 -q "10.77.0.1$vm" | tail -2; done

section "a UDP stream of 20,000 frames to each VM, and 100 broadcast frames"
receivers=()
for vm in 1 2; do
  # Each VM expects its stream and the broadcasts; 20 s is the bound.
  in_ns "vm$vm" "$testnet" recv --iface eth0 --seconds 20 --expect 20100 --listen-udp 9 >"$run_dir/vm$vm.json" \
    2>"$run_dir/vm$vm.err" &
  receivers+=($!)
done
for vm in 1 2; do wait_ready "$run_dir/vm$vm.err"; done
for vm in 1 2; do
  in_ns wire "$testnet" send --iface wire0 --dst "52:54:00:77:00:0$vm" --src 52:54:00:77:00:fe \
    --dst-ip "10.77.0.1$vm" --count 20000 --rate 20000 --flow "$vm" >/dev/null
done
in_ns wire "$testnet" send --iface wire0 --dst ff:ff:ff:ff:ff:ff --count 100 --rate 1000 --flow 9 >/dev/null
wait "${receivers[@]}"

section "what each VM received (its own raw socket)"
report=$(/usr/bin/python3 - "$run_dir" <<'PY'
import json, sys
d = sys.argv[1]
ok = True
for vm in (1, 2):
    r = json.load(open("%s/vm%d.json" % (d, vm)))
    own = r["flows"].get(str(vm), {}).get("unique", 0)
    other = r["flows"].get(str(3 - vm), {}).get("frames", 0)
    bcast = r["flows"].get("9", {}).get("unique", 0)
    print("  vm%d: %5d of 20000 stream frames, %d frames of vm%d's stream, %3d of 100 broadcast frames"
          % (vm, own, other, 3 - vm, bcast))
    ok &= own == 20000 and other == 0 and bcast == 100
print("RESULT", "ok" if ok else "failed")
PY
)
echo "${report%RESULT*}"

section "applications in the VMs: a UDP socket and a TCP download each (the wire's offloads as they are)"
apps_ok=1
for vm in 1 2; do
  in_ns "vm$vm" "${app[@]}" udp-recv --port 5001 --count 2000 --seconds 20 --idle 3 >"$run_dir/udp$vm.json" \
    2>"$run_dir/udp$vm.err" &
  udp_pid=$!
  wait_ready "$run_dir/udp$vm.err"
  in_ns wire "${app[@]}" udp-send --to "10.77.0.1$vm" --port 5001 --count 2000 --rate 5000 --size 200 >/dev/null
  wait "$udp_pid"
  in_ns "vm$vm" "${app[@]}" tcp-recv --listen 0.0.0.0 --port 5002 --seconds 60 >"$run_dir/tcp$vm.json" \
    2>"$run_dir/tcp$vm.err" &
  tcp_pid=$!
  wait_ready "$run_dir/tcp$vm.err"
  sent=$(in_ns wire "${app[@]}" tcp-send --connect "10.77.0.1$vm" --port 5002 --bytes $((16 << 20)) --seconds 60)
  wait "$tcp_pid"
  /usr/bin/python3 - "$vm" "$(cat "$run_dir/udp$vm.json")" "$sent" "$(cat "$run_dir/tcp$vm.json")" <<'PY' || apps_ok=0
import json, sys
vm, udp, sent, got = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4])
same = got["received"] == sent["sent"] and got["sha256"] == sent["sha256"]
print("  vm%s: UDP socket received %d of 2000 datagrams; TCP received %d of %d bytes in %.2f s, SHA-256 %s"
      % (vm, udp["received"], got["received"], sent["sent"], got["seconds"], "matches" if same else "DIFFERS"))
sys.exit(0 if udp["received"] == 2000 and same else 1)
PY
done

section "per-queue counters (vmqctl stats)"
ctl stats

section "where would a frame go? (vmqctl trace)"
ctl trace --uplink uplink0 --dst 52:54:00:77:00:01
ctl trace --uplink uplink0 --dst ff:ff:ff:ff:ff:ff
ctl trace --uplink uplink0 --dst 52:54:00:77:00:01 --vlan 100

section "checks"
json=$(ctl --json stats)
/usr/bin/python3 - "$json" "${report##*RESULT }" "$apps_ok" <<'PY'
import json, sys
stats, received, apps_ok = json.loads(sys.argv[1]), sys.argv[2].strip(), sys.argv[3] == "1"
queues = {q["name"]: q["counters"] for q in stats["queues"]}
default = stats["uplinks"][0]["default_queue"]
checks = [
    ("each VM received its whole stream, the other's never, and every broadcast frame", received == "ok"),
    ("each VM's UDP socket received every datagram and its TCP download arrived intact", apps_ok),
]
for vm in ("vm1", "vm2"):
    c = queues[vm]
    checks.append(("%s: the stream and the pings went through its queue (%d frames classified, %d delivered)"
                   % (vm, c["classified"]["packets"], c["delivered"]["packets"]),
                   c["classified"]["packets"] >= 20005 and c["delivered"]["packets"] > 20005))
    checks.append(("%s: vmq completed the checksums the wire's sockets deferred (%d frames)"
                   % (vm, c["checksum_completed"]), c["checksum_completed"] >= 2000))
checks.append(("broadcast and ARP went to the default queue, the host's bridge (%d frames)"
               % default["broadcast_multicast"]["packets"], default["broadcast_multicast"]["packets"] >= 100))
failed = 0
for text, ok in checks:
    print("  %s %s" % ("ok  " if ok else "FAIL", text))
    failed += not ok
sys.exit(1 if failed else 0)
PY
echo
echo "demo finished: vmq classified the lab's traffic as shown above"
