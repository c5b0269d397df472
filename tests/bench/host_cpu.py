#!/usr/bin/python3
"""Host CPU time per delivered frame into 8 VMs, at a fixed offered rate
every path sustains (issue 10's primary figure), side by side in one run:

  (a) bridge     the Linux bridge to 8 taps, each read by a reader thread (QEMU's tap back end)
  (b) vmq-tap    vmq's 8 queues to the same taps and readers (AF_XDP TX, copy mode)
  (c) vmq-vhost  vmq's 8 queues to vhost-user ports; the guests are dpdk-testpmd's
                 virtio-user ports (rxonly)
  (d) ovs-dpdk   Open vSwitch with DPDK: the uplink through DPDK's AF_XDP PMD, vhost-user
                 ports consumed by the same testpmd (tests/bench/ovs_dpdk.py), when installed

How host CPU is counted. The uplink is a veth, and a veth runs its peer's
receive path (XDP, the AF_XDP copy, the bridge) inside the sender's system
calls unless the peer has NAPI in a thread of its own. So the uplink gets GRO
(which gives a veth NAPI) and threaded NAPI: its receive path then runs in the
kernel thread napi/uplink0-N, whose CPU time the scheduler accounts to the
nanosecond (/proc/PID/task/TID/schedstat). Host CPU per frame is the CPU time
of the host's threads over the frames the guests received:

  the uplink's NAPI thread + vmqd's threads + the tap readers' threads
  (+ for Open vSwitch, its PMD thread's processing cycles)

The generator (the wire) and the guests (testpmd) are not host CPU and are
not counted. The generator sleeps between bursts of 32 frames, so it leaves
its CPU to the guests, and runs at real-time priority, so the busy-polling
guests cannot delay it into sending a backlog at once.

Placement (2 CPUs): CPU 0 is the host: the NAPI thread, vmqd's workers
(--cpu 0), the tap readers and Open vSwitch's PMD thread. CPU 1 is the
outside world: the generator and testpmd (one lcore polling all 8 ports).
Rounds alternate the paths (a, b, c, d, a, b, ...) so a noisy machine weighs
on all alike; the report gives each path's median and its ratio to (a).

  host_cpu.py [--build DIR] [--rate N] [--seconds S] [--rounds N] [--sizes 64,1514] [--vms N]
              [--paths bridge,vmq-tap,vmq-vhost,ovs-dpdk] [--out FILE]

Needs root. Makes the lab bhc (deploy/lab.sh) and removes it on exit.
"""
import argparse
import glob
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

LAB = "bhc"
HOST = LAB + "-host1"
WIRE = LAB + "-wire"
HOST_CPU, OUTSIDE_CPU = 0, 1
BURST = 32
PATHS = ["bridge", "vmq-tap", "vmq-vhost", "ovs-dpdk"]


def vm_mac(n):
    return "52:54:00:88:00:%02x" % n


def run(cmd, check=True, **kwargs):
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if check and done.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), done.returncode, done.stderr.strip()))
    return done


def in_host(cmd):
    return ["ip", "netns", "exec", HOST] + cmd


def wait_until(what, ready, timeout=20, process=None):
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline or (process is not None and process.poll() is not None):
            raise RuntimeError("%s did not happen" % what)
        time.sleep(0.2)


def thread_ns(pid):
    """CPU time of all of a process's threads, in nanoseconds."""
    total = 0
    for path in glob.glob("/proc/%d/task/*/schedstat" % pid):
        try:
            with open(path) as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # a thread that ended between glob and open
    return total


def napi_threads(ifname):
    found = {}
    for comm_path in glob.glob("/proc/[0-9]*/comm"):
        try:
            with open(comm_path) as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm.startswith("napi/%s-" % ifname):
            found[int(comm_path.split("/")[2])] = comm
    return found


class Uplink:
    """uplink0's receive path in a NAPI thread of its own, on the host CPU."""

    def __init__(self):
        self.others = set(napi_threads("uplink0"))  # other labs' uplink0s, if any
        # A veth takes its peer's NAPI only for frames it could aggregate, and
        # a frame from a device with TSO on is not one (veth_skb_is_eligible_for_gro).
        run(["ip", "netns", "exec", WIRE, "ethtool", "-K", "wire0", "tso", "off"])
        run(in_host(["ethtool", "-K", "uplink0", "gro", "on"]))
        run(in_host(["sh", "-c", "echo 1 > /sys/class/net/uplink0/threaded"]))

    def napi_pid(self):
        """The NAPI thread, found anew each round: attaching XDP may make a new one."""
        mine = [pid for pid in napi_threads("uplink0") if pid not in self.others]
        if len(mine) != 1:
            raise RuntimeError("expected one NAPI thread of the lab's uplink0, found %s" % mine)
        run(["taskset", "-pc", str(HOST_CPU), str(mine[0])])
        return mine[0]


class Vmqd:
    """vmqd with a state of its own: a round starts with no queues."""

    def __init__(self, build, workdir):
        state = os.path.join(workdir, "state")
        shutil.rmtree(state, ignore_errors=True)
        self.socket = os.path.join(workdir, "vmqd.sock")
        self.log = open(os.path.join(workdir, "vmqd.log"), "a")
        self.process = subprocess.Popen(
            in_host(["taskset", "-c", str(HOST_CPU), os.path.join(build, "agent", "vmqd"), "--config", "/dev/null",
                     "--socket", self.socket, "--state-dir", state, "--socket-group", "",
                     "--uplink", "uplink0"]), stdout=self.log, stderr=self.log)
        self.vmqctl = os.path.join(build, "cli", "vmqctl")
        wait_until("vmqd's start", lambda: run([self.vmqctl, "--socket", self.socket, "status"],
                                               check=False).returncode == 0, process=self.process)

    def ctl(self, *args):
        return json.loads(run([self.vmqctl, "--socket", self.socket, "--json"] + list(args)).stdout)

    def add_queues(self, vms, port_args):
        for n in range(1, vms + 1):
            self.ctl("queue", "add", "vm%d" % n, "--uplink", "uplink0", *port_args(n), "--mac", vm_mac(n), "--cpu",
                     str(HOST_CPU), "--frames", "2048")

    def delivered(self, vms):
        return self.counters(vms)["delivered.packets"]

    def counters(self, vms):
        """The queues' counters summed, by dotted name ("delivered.packets")."""
        total = {}

        def add(prefix, value):
            if isinstance(value, dict):
                for k, v in value.items():
                    add(prefix + "." + k if prefix else k, v)
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                total[prefix] = total.get(prefix, 0) + value

        for n in range(1, vms + 1):
            add("", self.ctl("queue", "show", "vm%d" % n)["counters"])
        return total

    def cpu_ns(self):
        return thread_ns(self.process.pid)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


class TapReaders:
    """The VMs' taps in br0, each read by its own thread, as each VM's QEMU reads its tap."""

    def __init__(self, build, vms, fdb):
        self.taps = ["bhctap%d" % n for n in range(1, vms + 1)]
        cmd = ["taskset", "-c", str(HOST_CPU), os.path.join(build, "tests", "tools", "vmq-testnet"), "tap-read",
               "--seconds", "600"]
        for tap in self.taps:
            cmd += ["--tap", tap]
        self.process = subprocess.Popen(in_host(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if self.process.stderr.readline().strip() != "ready":
            raise RuntimeError("the tap readers did not start: %s" % self.process.stderr.read())
        for n, tap in enumerate(self.taps, 1):
            run(in_host(["ip", "link", "set", tap, "master", "br0", "up"]))
            if fdb:  # the bridge path: the VM's MAC behind its tap, as the bridge learns it from a talking VM
                run(in_host(["bridge", "fdb", "replace", vm_mac(n), "dev", tap, "master", "static"]))

    def cpu_ns(self):
        return thread_ns(self.process.pid)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=10)
        return sum(t["frames"] for t in json.loads(out)["taps"].values())


class Guests:
    """The VMs: one dpdk-testpmd, a virtio-user port per VM on its vhost-user
    socket, rxonly, one forwarding lcore polling all of them on CPU 1."""

    def __init__(self, workdir, sockets, server=False):
        self.prefix = "bhc%d" % os.getpid()
        self.server_sockets = sockets if server else []
        for path in self.server_sockets:  # a server's socket outlives it; a new one cannot bind over it
            if os.path.exists(path):
                os.unlink(path)
        self.log_path = os.path.join(workdir, "testpmd.log")
        self.log = open(self.log_path, "w")
        cmd = ["stdbuf", "-oL", "dpdk-testpmd", "--no-huge", "-m", "512", "--no-pci", "--single-file-segments",
               "--file-prefix", self.prefix, "--lcores", "0@%d,1@%d" % (OUTSIDE_CPU, OUTSIDE_CPU)]
        for n, path in enumerate(sockets, 1):
            cmd += ["--vdev", "net_virtio_user%d,path=%s,queues=1,queue_size=1024,mac=%s%s" %
                    (n - 1, path, vm_mac(n), ",server=1" if server else "")]
        cmd += ["--", "--forward-mode=rxonly", "--stats-period", "1", "-a", "--no-lsc-interrupt",
                "--total-num-mbufs=%d" % (2048 * (len(sockets) + 2)), "--nb-cores=1"]
        self.process = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.ports = len(sockets)

    def wait_forwarding(self):
        wait_until("testpmd's forwarding", lambda: "Port statistics" in self.output(), process=self.process)
        if "failed to initialize" in self.output():
            raise RuntimeError("a guest's port did not start: see %s" % self.log_path)

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def received(self):
        last = {}
        for port, packets in re.findall(r"NIC statistics for port (\d+)\s+#+\s+RX-packets:\s+(\d+)", self.output()):
            last[int(port)] = int(packets)
        return sum(last.values())

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.log.close()
        shutil.rmtree("/var/run/dpdk/" + self.prefix, ignore_errors=True)
        for path in self.server_sockets:
            if os.path.exists(path):
                os.unlink(path)


def send(build, vms, rate, seconds, size):
    # Real-time priority, so the busy-polling guests on its CPU never hold it
    # back into sending a backlog in one burst; it sleeps between its bursts.
    cmd = ["ip", "netns", "exec", WIRE, "chrt", "-f", "10", "taskset", "-c", str(OUTSIDE_CPU),
           os.path.join(build, "tests", "tools", "vmq-testnet"), "send", "--iface", "wire0", "--src",
           "52:54:00:77:00:fe", "--dst-ip", "10.77.0.11", "--src-ip", "10.77.0.1", "--count", str(rate * seconds),
           "--rate", str(rate), "--burst", str(BURST), "--size", str(size), "--max-seconds", str(seconds * 3)]
    for n in range(1, vms + 1):
        cmd += ["--dst", vm_mac(n)]
    return json.loads(run(cmd).stdout)["sent"]


class Meter:
    """CPU time of the host's threads over one stream, by part."""

    def __init__(self, **parts):
        self.parts = parts
        self.before = {name: read() for name, read in parts.items()}

    def ns(self):
        return {name: read() - self.before[name] for name, read in self.parts.items()}


def settle(count, timeout=8):
    """Waits until a counter stops moving (testpmd prints its counts each
    second): the last frames reach their guests."""
    deadline = time.monotonic() + timeout
    last = count()
    while time.monotonic() < deadline:
        time.sleep(1.5)
        now = count()
        if now == last:
            return now
        last = now
    return last


def round_bridge(args, uplink, size):
    napi = uplink.napi_pid()
    readers = TapReaders(args.build, args.vms, fdb=True)
    try:
        time.sleep(0.5)
        meter = Meter(napi=lambda: thread_ns(napi), readers=readers.cpu_ns)
        sent = send(args.build, args.vms, args.rate, args.seconds, size)
        time.sleep(0.5)
        host = meter.ns()
    finally:
        delivered = readers.stop()
    return {"sent": sent, "delivered": delivered, "host_ns": host}


def round_vmq_tap(args, uplink, size, workdir):
    readers = TapReaders(args.build, args.vms, fdb=False)
    try:
        vmqd = Vmqd(args.build, workdir)
        try:
            vmqd.add_queues(args.vms, lambda n: ["--port", readers.taps[n - 1]])
            napi = uplink.napi_pid()
            time.sleep(0.5)
            meter = Meter(napi=lambda: thread_ns(napi), vmqd=vmqd.cpu_ns, readers=readers.cpu_ns)
            sent = send(args.build, args.vms, args.rate, args.seconds, size)
            time.sleep(0.5)
            host = meter.ns()
            delivered_by_vmq = vmqd.delivered(args.vms)
        finally:
            vmqd.stop()
    finally:
        read = readers.stop()
    return {"sent": sent, "delivered": min(read, delivered_by_vmq), "host_ns": host}


def round_vmq_vhost(args, uplink, size, workdir):
    vmqd = Vmqd(args.build, workdir)
    try:
        sockets = [os.path.join(workdir, "vm%d.sock" % n) for n in range(1, args.vms + 1)]
        vmqd.add_queues(args.vms, lambda n: ["--vhost-user", sockets[n - 1]])
        guests = Guests(workdir, sockets)
        try:
            guests.wait_forwarding()
            napi = uplink.napi_pid()
            time.sleep(0.5)
            meter = Meter(napi=lambda: thread_ns(napi), vmqd=vmqd.cpu_ns)
            sent = send(args.build, args.vms, args.rate, args.seconds, size)
            time.sleep(0.5)
            host = meter.ns()
            received = settle(guests.received)
            counters = vmqd.counters(args.vms)
        finally:
            guests.stop()
    finally:
        vmqd.stop()
    return {"sent": sent, "delivered": received, "vmq_counters": counters, "host_ns": host}


def round_ovs_dpdk(args, uplink, size, workdir):
    from ovs_dpdk import OvsDpdk
    sockets = [os.path.join(workdir, "ovs-vm%d.sock" % n) for n in range(1, args.vms + 1)]
    guests = Guests(workdir, sockets, server=True)  # OVS's vhost-user ports are clients
    try:
        ports = [("vm%d" % n, sockets[n - 1], vm_mac(n)) for n in range(1, args.vms + 1)]
        with OvsDpdk(workdir, HOST, "uplink0", ports, pmd_cpu=HOST_CPU, lcore_cpu=HOST_CPU) as ovs:
            guests.wait_forwarding()
            napi = uplink.napi_pid()
            pid = ovs.vswitchd_pid()
            time.sleep(1)
            ovs.pmd_stats_clear()
            meter = Meter(napi=lambda: thread_ns(napi))
            pmd = Meter(pmd_thread=lambda: sum(tid_ns(pid, t) for t in ovs.pmd_thread_ids()))
            sent = send(args.build, args.vms, args.rate, args.seconds, size)
            time.sleep(0.5)
            host = meter.ns()
            pmd_thread_ns = pmd.ns()["pmd_thread"]
            stats = ovs.pmd_stats()
            hz = ovs.tsc_hz()
            received = settle(guests.received)
    finally:
        guests.stop()
    # The PMD thread polls without pause: its whole CPU time is the polling's,
    # whatever the rate. The host's share is its processing cycles (OVS's own count).
    host["pmd_processing"] = stats["processing_cycles"] / hz * 1e9
    return {"sent": sent, "delivered": received, "host_ns": host, "pmd_thread_ns": pmd_thread_ns,
            "pmd_cycles_per_packet": stats.get("avg_processing_cycles_per_packet")}


def tid_ns(pid, tid):
    with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
        return int(f.read().split()[0])


def one_round(path, args, uplink, size, workdir):
    if path == "bridge":
        return round_bridge(args, uplink, size)
    if path == "vmq-tap":
        return round_vmq_tap(args, uplink, size, workdir)
    if path == "vmq-vhost":
        return round_vmq_vhost(args, uplink, size, workdir)
    return round_ovs_dpdk(args, uplink, size, workdir)


def report(args, results):
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    lines = ["Host CPU per delivered frame, %d VMs, %d frames/s for %d s a round, %d rounds (%s, %d CPUs, kernel %s). "
             "CPU 0: the uplink's NAPI thread, vmqd's workers, the tap readers, OVS's PMD; CPU 1: the generator "
             "and testpmd." % (args.vms, args.rate, args.seconds, args.rounds, model, os.cpu_count(),
                               os.uname().release), ""]
    for size, by_path in results.items():
        lines += ["%d-byte frames:" % size, "",
                  "| path | host CPU ns/frame (median) | rounds | delivered/sent (worst round) | vs bridge |",
                  "|---|---|---|---|---|"]
        medians = {p: statistics.median(x["ns_per_frame"] for x in rs) for p, rs in by_path.items()}
        for path, rounds in by_path.items():
            worst = min(x["delivered"] / x["sent"] for x in rounds)
            vs = "%.2f" % (medians[path] / medians["bridge"]) if "bridge" in medians else "-"
            lines.append("| %s | %.0f | %s | %.4f | %s |" % (path, medians[path], ", ".join(
                "%.0f" % x["ns_per_frame"] for x in rounds), worst, vs))
        ovs = by_path.get("ovs-dpdk")
        if ovs:
            lines += ["", "ovs-dpdk: PMD processing cycles per packet (its own figure) %s; its PMD thread's whole CPU "
                      "time per frame, idle polling included: %s ns" % (
                          ", ".join("%s" % x["pmd_cycles_per_packet"] for x in ovs),
                          ", ".join("%.0f" % (x["pmd_thread_ns"] / x["delivered"]) for x in ovs if x["delivered"]))]
        lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=os.path.join(SOURCE_DIR, "build"))
    parser.add_argument("--rate", type=int, default=100000, help="offered frames per second, all VMs together")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", default="64,1514", help="frame sizes without FCS")
    parser.add_argument("--vms", type=int, default=8)
    parser.add_argument("--paths", default=",".join(PATHS))
    parser.add_argument("--out", help="also write the report (markdown, with the raw rounds) here")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("host_cpu.py: run as root (namespaces, XDP, AF_XDP, taps)")
    paths = args.paths.split(",")
    sizes = [int(s) for s in args.sizes.split(",")]
    if not (1 <= args.rounds <= 20 and 1 <= args.seconds <= 60 and 1000 <= args.rate <= 2000000
            and 1 <= args.vms <= 16 and set(paths) <= set(PATHS) and all(64 <= s <= 1514 for s in sizes)):
        sys.exit("host_cpu.py: --rounds 1..20, --seconds 1..60, --rate 1000..2000000, --vms 1..16, "
                 "--sizes 64..1514, --paths from %s" % ",".join(PATHS))
    if "ovs-dpdk" in paths and not os.path.exists("/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk"):
        sys.exit("host_cpu.py: ovs-dpdk needs Open vSwitch with DPDK (deploy/install-deps.sh installs it)")
    lab_sh = os.path.join(SOURCE_DIR, "deploy", "lab.sh")
    workdir = "/tmp/vmq-bench-host-cpu-%d" % os.getpid()
    os.makedirs(workdir)
    run([lab_sh, "down", "--name", LAB], check=False)
    run([lab_sh, "up", "--name", LAB, "--vms", "1"])
    results = {size: {p: [] for p in paths} for size in sizes}
    try:
        uplink = Uplink()
        for r in range(args.rounds):
            for size in sizes:
                for path in paths:
                    x = one_round(path, args, uplink, size, workdir)
                    total = sum(x["host_ns"].values())
                    x["ns_per_frame"] = total / x["delivered"] if x["delivered"] else float("inf")
                    results[size][path].append(x)
                    print("round %d %4d bytes %-9s sent %d delivered %d host CPU %.3f s: %.0f ns/frame (%s)" %
                          (r + 1, size, path, x["sent"], x["delivered"], total / 1e9, x["ns_per_frame"], ", ".join(
                              "%s %.0f" % (k, v / max(x["delivered"], 1)) for k, v in x["host_ns"].items())),
                          flush=True)
    finally:
        run([lab_sh, "down", "--name", LAB], check=False)
    text = report(args, results)
    print("\n" + text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n```json\n" + json.dumps(results, indent=1) + "\n```\n")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
