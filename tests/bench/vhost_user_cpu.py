#!/usr/bin/python3
"""Host CPU time per delivered frame, at a fixed offered rate every path
sustains, for one VM's unicast stream (issue 10's primary figure):

  (a) bridge      the Linux bridge to a tap, read by a user-space reader (QEMU's tap back end)
  (b) vmq-tap     vmq's queue to the same tap and reader (AF_XDP TX, copy mode)
  (c) vmq-vhost   vmq's queue to a vhost-user port, consumed by dpdk-testpmd's virtio-user PMD (rxonly)

Placement (2 CPUs): the generator, the uplink's softirq, the bridge and vmqd's
worker run on CPU 0; the consumer (the tap reader, or testpmd's busy-polling
lcores) runs alone on CPU 1. Host CPU = CPU 0's busy time (/proc/stat, tick
sampled: user, system, irq, softirq) minus the generator's own user and system
time. The consumer's CPU is not counted. Rounds alternate the paths (a, b, c,
a, b, c, ...) so that a noisy machine weighs on all three alike; the report
gives each path's median and the ratios of medians.

  vhost_user_cpu.py [--build DIR] [--rate N] [--seconds S] [--rounds N] [--size BYTES] [--out FILE]

Needs root. Makes the lab bvu (deploy/lab.sh), removes it on exit.
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "integration"))

LAB = "bvu"
MAC = "52:54:00:77:00:01"
TAP = "bvtap0"
TICK = os.sysconf("SC_CLK_TCK")

READER = r"""
import fcntl, os, signal, struct, sys, time
TUNSETIFF = 0x400454ca
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", sys.argv[1].encode(), 0x0002 | 0x1000))  # IFF_TAP | IFF_NO_PI
print("ready", flush=True)
count = 0
stop = False
def done(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, done)
os.set_blocking(fd, False)
import select
poller = select.poll()
poller.register(fd, select.POLLIN)
while not stop:
    if not poller.poll(100):
        continue
    while True:
        try:
            os.read(fd, 4096)
        except BlockingIOError:
            break
        count += 1
print(count, flush=True)
"""


def run(cmd, check=True, **kwargs):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kwargs)


def in_ns(role, cmd):
    return ["ip", "netns", "exec", "%s-%s" % (LAB, role)] + cmd


def cpu0_busy_ticks():
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu0 "):
                user, nice, system, idle, iowait, irq, softirq, steal = map(int, line.split()[1:9])
                return user + nice + system + irq + softirq + steal
    raise RuntimeError("no cpu0 in /proc/stat")


class Vmqd:
    def __init__(self, build, workdir):
        self.workdir = workdir
        self.socket = os.path.join(workdir, "vmqd.sock")
        self.log = open(os.path.join(workdir, "vmqd.log"), "a")
        self.process = subprocess.Popen(
            in_ns("host1", [os.path.join(build, "agent", "vmqd"), "--config", "/dev/null", "--socket", self.socket,
                            "--state-dir", os.path.join(workdir, "state"), "--socket-group", "", "--uplink",
                            "uplink0"]), stdout=self.log, stderr=self.log)
        self.vmqctl = os.path.join(build, "cli", "vmqctl")
        deadline = time.monotonic() + 20
        while run([self.vmqctl, "--socket", self.socket, "status"], check=False).returncode != 0:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("vmqd did not start: see %s" % self.log.name)
            time.sleep(0.2)

    def ctl(self, *args):
        return json.loads(run([self.vmqctl, "--socket", self.socket, "--json"] + list(args)).stdout)

    def delivered(self):
        return self.ctl("queue", "show", "vm")["counters"]["delivered"]["packets"]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


class TapReader:
    """The tap in br0 and a reader on CPU 1, as QEMU's tap back end reads it."""

    def __init__(self, fdb):
        self.process = subprocess.Popen(in_ns("host1", ["taskset", "-c", "1", sys.executable, "-c", READER, TAP]),
                                        stdout=subprocess.PIPE, text=True)
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the tap reader did not start")
        run(in_ns("host1", ["ip", "link", "set", TAP, "master", "br0", "up"]))
        if fdb:  # the bridge path: the VM's MAC behind the tap, as the bridge learns it from a talking VM
            run(in_ns("host1", ["bridge", "fdb", "replace", MAC, "dev", TAP, "master", "static"]))

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=10)
        return int(out.strip().splitlines()[-1])


class Testpmd:
    def __init__(self, workdir, path):
        self.prefix = "bvu%d" % os.getpid()
        self.log_path = os.path.join(workdir, "testpmd.log")
        self.log = open(self.log_path, "w")
        # Both lcores on CPU 1: the consumer never runs on the host's CPU.
        self.process = subprocess.Popen(
            ["stdbuf", "-oL", "dpdk-testpmd", "--no-huge", "-m", "256", "--no-pci", "--single-file-segments",
             "--file-prefix", self.prefix, "--vdev",
             "net_virtio_user0,path=%s,queues=1,queue_size=1024,mac=%s" % (path, MAC), "--lcores", "0@1,1@1", "--",
             "--forward-mode=rxonly", "--stats-period", "1", "-a", "--no-lsc-interrupt", "--total-num-mbufs=8192",
             "--nb-cores=1"], stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while "Port statistics" not in open(self.log_path).read():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("testpmd did not start forwarding: see %s" % self.log_path)
            time.sleep(0.2)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.close()
        run(["rm", "-rf", "/var/run/dpdk/" + self.prefix], check=False)


def measure(build, rate, seconds, size):
    """Sends rate*seconds frames to the VM's MAC from CPU 0; returns
    (sent, host CPU ticks on CPU 0 minus the generator's own)."""
    count = rate * seconds
    cmd = in_ns("wire", ["taskset", "-c", "0", os.path.join(build, "tests", "tools", "vmq-testnet"), "send",
                         "--iface", "wire0", "--dst", MAC, "--src", "52:54:00:77:00:fe", "--dst-ip", "10.77.0.11",
                         "--src-ip", "10.77.0.1", "--count", str(count), "--rate", str(rate), "--size", str(size),
                         "--max-seconds", str(seconds * 3)])
    busy_before = cpu0_busy_ticks()
    # ip netns exec and taskset exec in turn: the child is the generator itself,
    # and wait4 gives its own user and system time.
    generator = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    out = generator.stdout.read()
    _, status, usage = os.wait4(generator.pid, 0)
    generator.returncode = os.waitstatus_to_exitcode(status)
    busy_after = cpu0_busy_ticks()
    if generator.returncode != 0:
        raise RuntimeError("the generator failed (%d)" % generator.returncode)
    sent = json.loads(out)["sent"]
    return sent, (busy_after - busy_before) - (usage.ru_utime + usage.ru_stime) * TICK


def one_round(path, args, workdir):
    if path == "bridge":
        reader = TapReader(fdb=True)
        time.sleep(0.5)
        sent, ticks = measure(args.build, args.rate, args.seconds, args.size)
        time.sleep(0.5)
        delivered = reader.stop()
        return sent, delivered, ticks
    vmqd = Vmqd(args.build, workdir)
    try:
        if path == "vmq-tap":
            reader = TapReader(fdb=False)
            vmqd.ctl("queue", "add", "vm", "--uplink", "uplink0", "--port", TAP, "--mac", MAC, "--cpu", "0",
                     "--frames", "2048")
            time.sleep(0.5)
            sent, ticks = measure(args.build, args.rate, args.seconds, args.size)
            time.sleep(0.5)
            delivered = vmqd.delivered()
            read = reader.stop()
            return sent, min(delivered, read), ticks
        socket_path = os.path.join(workdir, "vm.sock")
        vmqd.ctl("queue", "add", "vm", "--uplink", "uplink0", "--vhost-user", socket_path, "--mac", MAC, "--cpu",
                 "0", "--frames", "2048")
        guest = Testpmd(workdir, socket_path)
        try:
            time.sleep(0.5)
            sent, ticks = measure(args.build, args.rate, args.seconds, args.size)
            time.sleep(0.5)
            return sent, vmqd.delivered(), ticks
        finally:
            guest.stop()
    finally:
        vmqd.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=os.path.join(SOURCE_DIR, "build"))
    parser.add_argument("--rate", type=int, default=50000, help="offered frames per second")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--out", help="also write the report (markdown) here")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("vhost_user_cpu.py: run as root (namespaces, XDP, AF_XDP, taps)")
    if not (1 <= args.rounds <= 20 and 1 <= args.seconds <= 60 and 1000 <= args.rate <= 2000000):
        sys.exit("vhost_user_cpu.py: --rounds 1..20, --seconds 1..60, --rate 1000..2000000")
    lab_sh = os.path.join(SOURCE_DIR, "deploy", "lab.sh")
    workdir = "/tmp/vmq-bench-vhost-%d" % os.getpid()
    os.makedirs(workdir)
    run([lab_sh, "down", "--name", LAB], check=False)
    run([lab_sh, "up", "--name", LAB, "--vms", "1"])
    paths = ["bridge", "vmq-tap", "vmq-vhost"]
    results = {p: [] for p in paths}
    try:
        for r in range(args.rounds):
            for path in paths:
                sent, delivered, ticks = one_round(path, args, workdir)
                ns = ticks / TICK * 1e9 / delivered if delivered else float("inf")
                results[path].append({"sent": sent, "delivered": delivered, "host_ticks": ticks, "ns_per_frame": ns})
                print("round %d %-9s sent %d delivered %d host CPU %.2f s: %.0f ns/frame" %
                      (r + 1, path, sent, delivered, ticks / TICK, ns), flush=True)
    finally:
        run([lab_sh, "down", "--name", LAB], check=False)
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    median = {p: statistics.median(x["ns_per_frame"] for x in results[p]) for p in paths}
    lines = ["Host CPU per delivered frame, %d-byte frames at %d/s for %d s, %d rounds (%s, %d CPUs; "
             "generator, softirq and vmqd's worker on CPU 0, the consumer alone on CPU 1)" %
             (args.size, args.rate, args.seconds, args.rounds, model, os.cpu_count()), "",
             "| path | host CPU ns/frame (median) | rounds | delivered/sent (worst round) | vs bridge |",
             "|---|---|---|---|---|"]
    for p in paths:
        worst = min(x["delivered"] / x["sent"] for x in results[p])
        lines.append("| %s | %.0f | %s | %.4f | %.2f |" % (p, median[p], ", ".join("%.0f" % x["ns_per_frame"]
                                                                              for x in results[p]),
                                                        worst, median[p] / median["bridge"]))
    report = "\n".join(lines)
    print("\n" + report)
    if args.out:
        with open(args.out, "w") as f:
            f.write(report + "\n\n```json\n" + json.dumps(results, indent=1) + "\n```\n")
    subprocess.run(["rm", "-rf", workdir])


if __name__ == "__main__":
    main()
