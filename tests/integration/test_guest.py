"""A real guest behind a vmq queue: QEMU (TCG) boots Debian's kernel with a
busybox initramfs (tests/guest/build-image.sh, cached in the build directory)
with virtio-net on a tap in the host's bridge, and that tap is the port of the
guest's vmq queue. The bridge may not deliver unicast to the tap (learning and
flooding off on it; broadcast still reaches it): unicast reaches the guest
through vmq's queue or not at all, which the last test shows by deleting the
queue. Traffic comes from ordinary kernel sockets in the wire namespace, with
the wire's default offloads.

The guest's guest-agent (tests/guest/guest-agent.c) counts UDP datagrams and
hashes TCP streams, and answers on the serial console (QEMU's stdio)."""
import ctypes
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
import unittest

from vmqlab import BUILD_DIR, SOURCE_DIR, Agent, Lab, require_root, run, vm_ip, vm_mac

GUEST_DIR = os.path.join(SOURCE_DIR, "tests", "guest")
BUILD_IMAGE = os.path.join(GUEST_DIR, "build-image.sh")
WIRE_TRAFFIC = os.path.join(GUEST_DIR, "wire_traffic.py")
QEMU = "qemu-system-x86_64"

GUEST_VM = 5          # the guest is the lab's VM 5: 52:54:00:77:00:05, 10.77.0.15 (the lab's own VMs are 1..)
TAP = "vmqtap5"       # the guest's port in host1's bridge
UDP_PORT, TCP_PORT = 9000, 9001
UDP_COUNT, UDP_RATE = 2000, 1000          # 2 s of datagrams
TCP_BYTES = 4 << 20                       # 4 MiB: seconds under TCG
BOOT_SECONDS = 120


def report(text):
    print("\n  " + text, flush=True)


def delta(after, before, *path):
    for key in path:
        after, before = after[key], before[key]
    return after - before


def build_image():
    """The guest image's directory: built on first use (20-30 s, a 70 MB download), then cached."""
    env = dict(os.environ, VMQ_BUILD_DIR=BUILD_DIR)
    started = time.monotonic()
    result = subprocess.run([BUILD_IMAGE], capture_output=True, text=True, timeout=900, env=env)
    if result.returncode != 0:
        raise AssertionError("build-image.sh failed (%d):\n%s" % (result.returncode, result.stderr))
    if "built in" in result.stderr:
        report("guest image built in %.0f s: %s" % (time.monotonic() - started, result.stdout.strip()))
    return result.stdout.strip().splitlines()[-1]


class Guest:
    """QEMU in a host namespace. Its serial console (QEMU's stdin and stdout)
    carries guest-agent's commands and "@vmq ..." replies; everything it
    prints is kept in console.log in the lab's directory."""

    LINE = re.compile(r"@vmq (\S+)(.*)")

    def __init__(self, lab, host, image, tap, mac, ip):
        self.lab, self.host, self.image, self.tap, self.mac, self.ip = lab, host, image, tap, mac, ip
        self.log_path = os.path.join(lab.workdir, "console.log")
        self.lines = queue.Queue()
        self.process = None

    def start(self):
        append = ("console=ttyS0 panic=-1 loglevel=4 vmq.mac=%s vmq.ip=%s/24 vmq.udp=%d vmq.tcp=%d"
                  % (self.mac, self.ip, UDP_PORT, TCP_PORT))
        cmd = [QEMU, "-accel", "tcg", "-m", "256", "-smp", "1", "-nodefaults", "-no-user-config", "-nographic",
               "-serial", "stdio", "-no-reboot",
               "-kernel", os.path.join(self.image, "kernel"), "-initrd", os.path.join(self.image, "initramfs.gz"),
               "-append", append,
               "-netdev", "tap,id=net0,ifname=%s,script=no,downscript=no,vhost=off" % self.tap,
               # romfile= : no iPXE option ROM, the kernel is loaded directly
               "-device", "virtio-net-pci,netdev=net0,mac=%s,romfile=" % self.mac]
        self.log = open(self.log_path, "wb")
        self.process = self.lab.popen(self.host, cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        return self

    def _read(self):
        for raw in self.process.stdout:
            self.log.write(raw)
            self.log.flush()
            match = self.LINE.search(raw.decode(errors="replace"))
            if match:
                self.lines.put((match.group(1), dict(re.findall(r"(\w+)=(\S+)", match.group(2))),
                                match.group(0).strip()))
        self.lines.put(None)

    def console(self, tail=40):
        with open(self.log_path, "rb") as f:
            return "\n".join(f.read().decode(errors="replace").replace("\r", "").splitlines()[-tail:])

    def expect(self, word, timeout):
        """The next "@vmq WORD ..." line's key=value fields."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                item = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError("no '@vmq %s' from the guest within %ss; console:\n%s"
                                     % (word, timeout, self.console())) from None
            if item is None:
                raise AssertionError("QEMU exited (%s) before '@vmq %s'; console:\n%s"
                                     % (self.process.wait(), word, self.console()))
            if item[0] == "error":
                raise AssertionError("the guest reported: %s" % item[2])
            if item[0] == word:
                return item[1]

    def command(self, text, reply, timeout=15):
        self.process.stdin.write(text.encode() + b"\n")
        self.process.stdin.flush()
        return self.expect(reply, timeout)

    def udp_count(self):
        return {k: int(v) for k, v in self.command("udp-count", "udp").items()}

    def snmp(self):
        return self.command("snmp", "snmp")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.process:
            self.reader.join(timeout=5)
            self.log.close()


def wire(lab, *args, timeout=90):
    """tests/guest/wire_traffic.py in the wire namespace: its JSON report."""
    result = lab.exec("wire", ["/usr/bin/python3", WIRE_TRAFFIC] + [str(a) for a in args], timeout=timeout,
                      check=False)
    try:
        return json.loads(result.stdout)
    except ValueError:
        raise AssertionError("wire_traffic.py %s failed (%d): %s%s" % (" ".join(map(str, args)), result.returncode,
                                                                      result.stdout, result.stderr)) from None


def die_with_parent():
    """In QEMU's process before exec: killed if the test dies (a ctest timeout)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@require_root
class GuestBehindAQueue(unittest.TestCase):
    """One guest for every test, in order: its queue is deleted by the last."""

    @classmethod
    def setUpClass(cls):
        if not shutil.which(QEMU):
            raise AssertionError("%s is missing: deploy/install-deps.sh installs qemu-system-x86" % QEMU)
        cls.started = time.monotonic()
        cls.image = build_image()
        cls.lab = Lab("guest", vms=1).__enter__()
        cls.guest = cls.agent = None
        try:
            host = ["ip", "-n", cls.lab.ns("host1")]
            run(host + ["tuntap", "add", "dev", TAP, "mode", "tap"])
            run(host + ["link", "set", TAP, "master", "br0", "up"])
            # No unicast from the bridge: the guest's MAC is never learnt on the tap
            # and unknown unicast is not flooded to it. Broadcast (ARP) still is.
            run(["bridge", "-n", cls.lab.ns("host1"), "link", "set", "dev", TAP, "learning", "off", "flood", "off"])
            boot = time.monotonic()
            cls.guest = Guest(cls.lab, "host1", cls.image, TAP, vm_mac(GUEST_VM), vm_ip(GUEST_VM)).start()
            cls.guest.expect("ready", BOOT_SECONDS)
            report("guest up in %.1f s (%s)" % (time.monotonic() - boot, cls.image))
            cls.agent = Agent(cls.lab).start()
            cls.agent.add_queue("guest", GUEST_VM, port=TAP)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.agent:
            if cls.agent.process and cls.agent.process.poll() is not None:
                report("vmqd exited (%d) during the test:\n%s" % (cls.agent.process.returncode,
                                                                  cls.agent.log_text()[-3000:]))
            cls.agent.__exit__()
        if cls.guest:
            cls.guest.stop()
        run(["ip", "-n", cls.lab.ns("host1"), "link", "del", TAP], check=False)
        cls.lab.__exit__()
        report("guest test: %.1f s in all" % (time.monotonic() - cls.started))

    def counters(self):
        return self.agent.queue("guest")["counters"]

    def send_udp(self):
        """Sends the stream from the wire; returns the guest's counts once they stop moving."""
        self.assertEqual(self.guest.command("udp-reset", "udp-reset"), {})
        sent = wire(self.lab, "udp", "--dst", vm_ip(GUEST_VM), "--port", UDP_PORT, "--count", UDP_COUNT,
                    "--rate", UDP_RATE, "--max-seconds", 20)
        self.assertEqual(sent.get("sent"), UDP_COUNT, sent)
        counted, deadline = None, time.monotonic() + 15
        while time.monotonic() < deadline:
            previous, counted = counted, self.guest.udp_count()
            if counted["count"] >= UDP_COUNT or (previous is not None and counted == previous):
                break
            time.sleep(1)
        return counted

    def test_1_arp_and_ping_through_the_queue(self):
        self.lab.exec("wire", ["ip", "neigh", "flush", "dev", "wire0"])
        before, before_default = self.counters(), self.agent.default_queue()
        result = self.lab.ping(GUEST_VM, count=10)
        self.assertIn(" 0% packet loss", result.stdout, result.stdout)
        after, after_default = self.counters(), self.agent.default_queue()
        neigh = self.lab.exec("wire", ["ip", "neigh", "show", vm_ip(GUEST_VM)]).stdout
        self.assertIn(vm_mac(GUEST_VM), neigh, "the wire did not resolve the guest's MAC")
        # The ARP request went through the bridge (broadcast), the echo requests through the queue.
        self.assertGreaterEqual(delta(after_default, before_default, "broadcast_multicast", "packets"), 1)
        self.assertGreaterEqual(delta(after, before, "classified", "packets"), 10)
        self.assertGreaterEqual(delta(after, before, "delivered", "packets"), 10)

    def test_2_udp_stream_counted_by_a_socket_in_the_guest(self):
        self.assertIn(" 0% packet loss", self.lab.ping(GUEST_VM, count=1).stdout)
        before = self.counters()
        counted = self.send_udp()
        self.agent.wait_quiet(["guest"])
        after = self.counters()
        snmp = self.guest.snmp()
        report("UDP: %d sent from the wire, guest counted %s; guest's kernel: %s"
               % (UDP_COUNT, counted, snmp))
        self.assertEqual((counted["count"], counted["unique"], counted["other"]), (UDP_COUNT, UDP_COUNT, 0),
                         "the guest's UDP socket did not receive every datagram: %s; guest's kernel: %s"
                         % (counted, snmp))
        self.assertGreaterEqual(delta(after, before, "classified", "packets"), UDP_COUNT)
        self.assertGreaterEqual(delta(after, before, "delivered", "packets"), UDP_COUNT)
        self.assertEqual(sum(after["dropped"].values()), 0, after["dropped"])
        # The wire's kernel left the UDP checksums to the receiving side (veth's
        # default TX checksum offload); vmq completed them on the way to the tap.
        self.assertGreaterEqual(delta(after, before, "checksum_completed"), UDP_COUNT)

    def test_3_tcp_transfer_verified_by_hash(self):
        self.assertIn(" 0% packet loss", self.lab.ping(GUEST_VM, count=1).stdout)
        before = self.counters()
        sent = wire(self.lab, "tcp", "--dst", vm_ip(GUEST_VM), "--port", TCP_PORT, "--bytes", TCP_BYTES,
                    "--seed", 5, "--max-seconds", 45)
        if "error" in sent:
            self.fail("the TCP transfer to the guest failed: %s; guest's kernel: %s" % (sent, self.guest.snmp()))
        received = self.guest.expect("tcp", 20)
        after = self.counters()
        report("TCP: %d bytes in %.2f s, guest's sha256 %s" % (sent["sent"], sent["seconds"], received["sha256"]))
        self.assertEqual(int(received["bytes"]), TCP_BYTES)
        self.assertEqual(received["sha256"], sent["sha256"])
        # At least one full-size segment per 1,448 bytes went through the queue.
        self.assertGreaterEqual(delta(after, before, "classified", "packets"), TCP_BYTES // 1448)
        self.assertGreaterEqual(delta(after, before, "delivered", "bytes"), TCP_BYTES)

    def test_4_without_the_queue_nothing_arrives(self):
        self.assertIn(" 0% packet loss", self.lab.ping(GUEST_VM, count=1).stdout)
        self.agent.json("queue", "del", "guest")
        before_default = self.agent.default_queue()
        counted = self.send_udp()
        after_default = self.agent.default_queue()
        # The frames reached the host and went on to its bridge, which does not
        # deliver them to the tap: only the queue did.
        self.assertGreaterEqual(delta(after_default, before_default, "no_filter", "packets"), UDP_COUNT)
        self.assertEqual(counted["count"], 0, "the guest received unicast without its queue: %s" % counted)
        self.assertIn("100% packet loss", self.lab.ping(GUEST_VM, count=3).stdout)


if __name__ == "__main__":
    unittest.main()
