#!/usr/bin/env bash
# The vmq lab: network namespaces standing in for a KVM host, its uplink and
# its VMs (see docs/ARCHITECTURE.md, "The lab").
#
#   lab.sh up   [--name NAME] [--hosts 1|2] [--vms N] [--rxqs N] [--port-queues N] [--ipv6]
#   lab.sh down [--name NAME]
#   lab.sh move-port [--name NAME] VM HOST    (moves VM's port to host HOST, e.g. vm1 host2)
#
#   NAME-wire    the network: wire0 (10.77.0.1, 52:54:00:77:00:fe) sends and receives test traffic
#   NAME-hostH   a host: uplink0 (the uplink vmqd classifies on) and VM ports vmNport in bridge br0
#   NAME-vmN     a guest: eth0 (10.77.0.1N, 52:54:00:77:00:0N), the far end of vmNport
#
# --port-queues gives each VM port N queues, as a multi-queue tap has (QEMU's
# queues=N): a queue with sub-queues delivers to one port queue each.
# IPv6 is off (no router or neighbour chatter in the counters) unless --ipv6
# gives wire0 fd77::1/64 and each guest fd77::1N/64.
#
# With one host, wire0 and uplink0 are the two ends of one veth (with --rxqs rx
# queues each). With two, wire0 and both hosts' uplinks hang off a bridge in
# NAME-wire. VMs start behind host1. Everything is torn down by `down`, which
# is safe to run at any time.
set -euo pipefail

name=vmqlab hosts=1 vms=2 rxqs=1 port_queues=1 ipv6=0
cmd=${1:-}
shift || true
args=()
while (($#)); do
  case $1 in
    --name) name=$2; shift 2 ;;
    --hosts) hosts=$2; shift 2 ;;
    --vms) vms=$2; shift 2 ;;
    --rxqs) rxqs=$2; shift 2 ;;
    --port-queues) port_queues=$2; shift 2 ;;
    --ipv6) ipv6=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done

die() { echo "lab.sh: $*" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || die "run as root (it creates network namespaces)"
[[ $name =~ ^[a-z][a-z0-9-]{0,11}$ ]] || die "invalid --name '$name' (1-12 of a-z, 0-9, -)"
[[ $hosts == 1 || $hosts == 2 ]] || die "--hosts must be 1 or 2"
[[ $vms =~ ^[1-9]$ ]] || die "--vms must be 1..9"
[[ $rxqs =~ ^[1-9][0-9]?$ ]] || die "--rxqs must be 1..99"
[[ $port_queues =~ ^([1-9]|1[0-6])$ ]] || die "--port-queues must be 1..16"

vm_mac() { printf '52:54:00:77:00:%02x' "$1"; }
vm_ip() { echo "10.77.0.1$1"; }

quiet_namespace() {  # no IPv6 chatter: the counters then show only the tests' frames
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$1" link set lo up
}

endpoint_namespace() {  # the wire and the guests: IPv6 too when asked for, without router solicitations
  quiet_namespace "$1"
  if ((ipv6)); then
    ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
      net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf.default.accept_dad=0
  fi
}

add_vm() {  # add_vm N HOST
  local n=$1 host=$2 ns="$name-vm$1"
  ip netns add "$ns"
  endpoint_namespace "$ns"
  ip -n "$host" link add "vm${n}port" numrxqueues "$port_queues" numtxqueues "$port_queues" type veth \
    peer name eth0 netns "$ns" numrxqueues "$port_queues" numtxqueues "$port_queues"
  ip -n "$ns" link set eth0 address "$(vm_mac "$n")"
  ip -n "$ns" addr add "$(vm_ip "$n")/24" dev eth0
  if ((ipv6)); then ip -n "$ns" addr add "fd77::1$n/64" dev eth0 nodad; fi
  ip -n "$ns" link set eth0 up
  ip -n "$host" link set "vm${n}port" master br0 up
}

add_host() {  # add_host H: a host namespace with its bridge
  local ns="$name-host$1"
  ip netns add "$ns"
  quiet_namespace "$ns"
  ip -n "$ns" link add br0 type bridge
  ip -n "$ns" link set br0 up
}

up() {
  [[ -z $(ip netns list | awk -v p="$name-" 'index($1, p) == 1') ]] || die "a lab named $name exists: run 'lab.sh down --name $name' first"
  trap 'down >/dev/null 2>&1' ERR
  ip netns add "$name-wire"
  endpoint_namespace "$name-wire"
  for ((h = 1; h <= hosts; h++)); do add_host "$h"; done
  if ((hosts == 1)); then
    ip -n "$name-wire" link add wire0 numrxqueues "$rxqs" numtxqueues "$rxqs" type veth \
      peer name uplink0 netns "$name-host1" numrxqueues "$rxqs" numtxqueues "$rxqs"
  else
    ip -n "$name-wire" link add wirebr type bridge
    ip -n "$name-wire" link set wirebr up
    ip -n "$name-wire" link add wire0 type veth peer name wire0br
    ip -n "$name-wire" link set wire0br master wirebr up
    for ((h = 1; h <= hosts; h++)); do
      ip -n "$name-wire" link add "up$h" numrxqueues "$rxqs" numtxqueues "$rxqs" type veth \
        peer name uplink0 netns "$name-host$h" numrxqueues "$rxqs" numtxqueues "$rxqs"
      ip -n "$name-wire" link set "up$h" master wirebr up
    done
  fi
  ip -n "$name-wire" link set wire0 address 52:54:00:77:00:fe
  ip -n "$name-wire" addr add 10.77.0.1/24 dev wire0
  if ((ipv6)); then ip -n "$name-wire" addr add fd77::1/64 dev wire0 nodad; fi
  ip -n "$name-wire" link set wire0 up
  for ((h = 1; h <= hosts; h++)); do ip -n "$name-host$h" link set uplink0 master br0 up; done
  for ((n = 1; n <= vms; n++)); do add_vm "$n" "$name-host1"; done
  trap - ERR
  echo "lab $name: $hosts host(s), $vms VM(s), $rxqs rx queue(s) on uplink0"
  for ((n = 1; n <= vms; n++)); do
    echo "  vm$n: $(vm_mac "$n") $(vm_ip "$n")$( ((ipv6)) && echo " fd77::1$n") port vm${n}port on $name-host1"
  done
}

down() {
  local ns
  for ns in $(ip netns list | awk -v p="$name-" 'index($1, p) == 1 {print $1}'); do
    # Killing what runs inside first lets every socket close before the namespace goes.
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  echo "lab $name: removed"
}

move_port() {  # move_port VM HOST: the VM's port moves to another host's bridge
  ((${#args[@]} == 2)) || die "usage: lab.sh move-port [--name NAME] VM HOST (e.g. vm1 host2)"
  local vm=${args[0]} to="$name-${args[1]}" from
  for from in $(ip netns list | awk -v p="$name-host" 'index($1, p) == 1 {print $1}'); do
    if ip -n "$from" link show "${vm}port" >/dev/null 2>&1; then
      [[ $from == "$to" ]] && return 0
      ip -n "$from" link set "${vm}port" netns "$to"
      ip -n "$to" link set "${vm}port" master br0 up
      return 0
    fi
  done
  die "no port ${vm}port in lab $name"
}

case $cmd in
  up) up ;;
  down) down ;;
  move-port) move_port ;;
  *) die "usage: lab.sh up|down|move-port [options] (lab.sh --help)" ;;
esac
