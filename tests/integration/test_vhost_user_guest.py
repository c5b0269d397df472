"""A real QEMU guest on a vmqd vhost-user port: QEMU 7.2 (TCG) boots the
guest image of test_guest.py (Debian's kernel, busybox, guest-agent on the
serial console) with its virtio-net device on a vhost-user netdev whose back
end is vmqd (`queue add --vhost-user`), guest memory shared through a memfd.
The guest's own kernel sockets show: UDP datagrams from the wire reach its
socket through the vmq queue; 4 MiB over TCP each way by SHA-256 (the wire's
segments through the queue, the guest's through the leg); ARP and the echo
replies through the leg; and after vmqd restarts, QEMU reconnects (chardev
reconnect=1), the guest's link comes back and the restored queue delivers again.

The device has no MSI-X (virtio-net-pci vectors=0: the legacy INTx
interrupt). With MSI-X, QEMU 7.2 under TCG crashes with SIGSEGV as soon as
the guest's driver sets DRIVER_OK on any vhost-user back end (dpdk-testpmd's
net_vhost as well as vmqd): virtio_pci_set_guest_notifiers ->
msix_set_vector_notifiers -> the vector unmask path dereferences the KVM irqfd
table (proxy->vector_irqfd), which is allocated only when KVM routes MSI
through irqfds, and under TCG is NULL (fault address 0x28: entry 1's virq).
Without MSI-X, QEMU polls the guest notifiers itself and never takes that
path. See docs/vhost-user.md."""
import json
import os
import shutil
import subprocess
import threading
import time
import unittest

from test_guest import (BOOT_SECONDS, QEMU, TCP_BYTES, TCP_PORT, UDP_COUNT, UDP_PORT, UDP_RATE, Guest, build_image,
                        die_with_parent, report, wire)
from vmqlab import WIRE_IP, Agent, App, Lab, require_root, run, vm_ip, vm_mac, wait_for

GUEST_VM = 5            # 52:54:00:77:00:05, 10.77.0.15: no lab VM has them
QUEUE = "guest"
GUEST_TO_WIRE_PORT = 9002
HOST_IP = "10.77.0.2"   # br0's address in the host namespace


def delta(before, after, *keys):
    for key in keys:
        before, after = before[key], after[key]
    return after - before


class VhostUserGuest(Guest):
    """test_guest's Guest with its virtio-net device on a vhost-user socket
    (QEMU the client, reconnecting every second when the server goes)."""

    def __init__(self, lab, host, image, socket_path, mac, ip):
        super().__init__(lab, host, image, None, mac, ip)
        self.socket_path = socket_path

    def start(self):
        append = ("console=ttyS0 panic=-1 loglevel=4 vmq.mac=%s vmq.ip=%s/24 vmq.udp=%d vmq.tcp=%d"
                  % (self.mac, self.ip, UDP_PORT, TCP_PORT))
        cmd = [QEMU, "-accel", "tcg", "-m", "256", "-smp", "1", "-nodefaults", "-no-user-config", "-nographic",
               "-serial", "stdio", "-no-reboot",
               # vhost-user needs guest memory the back end can map: a shared memfd.
               "-object", "memory-backend-memfd,id=mem,size=256M,share=on", "-numa", "node,memdev=mem",
               "-kernel", os.path.join(self.image, "kernel"), "-initrd", os.path.join(self.image, "initramfs.gz"),
               "-append", append,
               "-chardev", "socket,id=vu0,path=%s,reconnect=1" % self.socket_path,
               "-netdev", "vhost-user,id=net0,chardev=vu0",
               # vectors=0: no MSI-X, which crashes QEMU 7.2 under TCG with vhost (module docstring).
               # romfile= : no iPXE option ROM, the kernel is loaded directly.
               "-device", "virtio-net-pci,netdev=net0,mac=%s,vectors=0,romfile=" % self.mac]
        self.log = open(self.log_path, "wb")
        self.process = self.lab.popen(self.host, cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        return self

    def link(self):
        return self.command("link", "link")


@require_root
class QemuGuestOnAVhostUserPort(unittest.TestCase):
    """One guest for every test, in order: the last restarts vmqd."""

    @classmethod
    def setUpClass(cls):
        if not shutil.which(QEMU):
            raise AssertionError("%s is missing: deploy/install-deps.sh installs qemu-system-x86" % QEMU)
        cls.started = time.monotonic()
        cls.image = build_image()
        cls.lab = Lab("vug", vms=1).__enter__()
        cls.guest = cls.agent = None
        try:
            cls.lab.exec("host1", ["ip", "addr", "add", HOST_IP + "/24", "dev", "br0"])
            cls.config = os.path.join(cls.lab.workdir, "vmqd.toml")
            with open(cls.config, "w") as f:
                f.write('vhost_user_bridge = "br0"\n')
            cls.state = os.path.join(cls.lab.workdir, "state")
            cls.socket_path = os.path.join(cls.lab.workdir, "guest.sock")
            cls.agent = Agent(cls.lab, config=cls.config, state_dir=cls.state).start()
            cls.agent.json("queue", "add", QUEUE, "--uplink", "uplink0", "--vhost-user", cls.socket_path,
                           "--mac", vm_mac(GUEST_VM), "--untagged", "--cpu", "0")
            boot = time.monotonic()
            cls.guest = VhostUserGuest(cls.lab, "host1", cls.image, cls.socket_path, vm_mac(GUEST_VM),
                                       vm_ip(GUEST_VM)).start()
            cls.guest.expect("ready", BOOT_SECONDS)
            report("guest up in %.1f s on %s (%s)" % (time.monotonic() - boot, cls.socket_path, cls.image))
            cls.wait_connected(cls.agent, 1)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.guest:
            cls.guest.stop()
        if cls.agent:
            if cls.agent.process and cls.agent.process.poll() not in (None, 0):
                report("vmqd exited (%d) during the test:\n%s" % (cls.agent.process.returncode,
                                                                  cls.agent.log_text()[-3000:]))
            cls.agent.__exit__()
        cls.lab.__exit__()
        report("vhost-user guest test: %.1f s in all" % (time.monotonic() - cls.started))

    @classmethod
    def wait_connected(cls, agent, count):
        """Until vmqd's log says `count` times that the guest's driver started the device."""
        text = "vhost-user socket %s: guest connected" % cls.socket_path
        wait_for("vmqd to log '%s' %d time(s)" % (text, count), lambda: agent.log_text().count(text),
                 lambda n: n >= count, timeout=30, interval=0.2)

    def counters(self):
        return self.agent.queue(QUEUE)["counters"]

    def assert_qemu_running(self):
        self.assertIsNone(self.guest.process.poll(), "QEMU exited; console:\n%s" % self.guest.console())

    def ping_from(self, role, ip, count=10):
        return self.lab.exec(role, ["ping", "-c", str(count), "-i", "0.05", "-W", "1", "-q", ip], check=False).stdout

    def send_udp(self):
        """The wire's datagrams; returns the guest's counts once they stop moving."""
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

    def assert_udp_through_the_queue(self):
        before = self.counters()
        counted = self.send_udp()
        self.agent.wait_quiet([QUEUE])
        after = self.counters()
        snmp = self.guest.snmp()
        report("UDP: %d sent from the wire, the guest counted %s; queue %s; guest's kernel: %s"
               % (UDP_COUNT, counted, {k: delta(before, after, k, "packets") for k in ("classified", "delivered")},
                  snmp))
        self.assertEqual((counted["count"], counted["unique"], counted["other"]), (UDP_COUNT, UDP_COUNT, 0),
                         "the guest's UDP socket did not receive every datagram: %s; queue %s; guest's kernel: %s"
                         % (counted, after, snmp))
        self.assertGreaterEqual(delta(before, after, "classified", "packets"), UDP_COUNT)
        self.assertGreaterEqual(delta(before, after, "delivered", "packets"), UDP_COUNT)
        self.assertEqual(delta(before, after, "dropped", "port_refused"), 0, after["dropped"])
        self.assertEqual(int(snmp["udp_in_csum_errors"]), 0, snmp)
        return before, after

    def test_1_arp_through_the_leg_and_ping_through_the_queue(self):
        self.lab.exec("wire", ["ip", "neigh", "flush", "dev", "wire0"])
        before = self.counters()
        result = self.ping_from("wire", vm_ip(GUEST_VM))
        self.assertIn(" 0% packet loss", result, result)
        after = self.counters()
        neighbours = json.loads(self.lab.exec("wire", ["ip", "-j", "neigh", "show", vm_ip(GUEST_VM)]).stdout)
        self.assertEqual([n.get("lladdr") for n in neighbours], [vm_mac(GUEST_VM)], "the guest answered ARP")
        # The echo requests are unicast to the guest's MAC: its queue. The ARP
        # request is broadcast: the bridge floods it to the leg. The ARP reply
        # and the echo replies are the guest's transmit: the leg.
        self.assertGreaterEqual(delta(before, after, "delivered", "packets"), 10, (before, after))
        self.assertGreaterEqual(delta(before, after, "leg", "to_guest"), 1, (before, after))
        self.assertGreaterEqual(delta(before, after, "leg", "from_guest"), 11, (before, after))
        # The host (an address on br0) reaches the guest through the leg only.
        before = self.counters()
        result = self.ping_from("host1", vm_ip(GUEST_VM))
        self.assertIn(" 0% packet loss", result, result)
        after = self.counters()
        self.assertEqual(delta(before, after, "delivered", "packets"), 0, (before, after))
        self.assertGreaterEqual(delta(before, after, "leg", "to_guest"), 10, (before, after))
        self.assertGreaterEqual(delta(before, after, "leg", "from_guest"), 10, (before, after))
        self.assert_qemu_running()

    def test_2_udp_datagrams_reach_a_socket_in_the_guest_through_the_queue(self):
        self.assertIn(" 0% packet loss", self.ping_from("wire", vm_ip(GUEST_VM), 1))
        before, after = self.assert_udp_through_the_queue()
        # The wire's kernel left the UDP checksums to offload; the guest's
        # virtio-net driver negotiated GUEST_CSUM, so they reach it as
        # NEEDS_CSUM, and vmq completes none (the guest's kernel counted no
        # checksum error, and its socket got every datagram).
        self.assertEqual(delta(before, after, "checksum_completed"), 0, (before, after))

    def test_3_tcp_from_the_wire_to_the_guest_by_hash(self):
        self.assertIn(" 0% packet loss", self.ping_from("wire", vm_ip(GUEST_VM), 1))
        before = self.counters()
        sent = wire(self.lab, "tcp", "--dst", vm_ip(GUEST_VM), "--port", TCP_PORT, "--bytes", TCP_BYTES,
                    "--seed", 5, "--max-seconds", 60)
        if "error" in sent:
            self.fail("the TCP transfer to the guest failed: %s; guest's kernel: %s" % (sent, self.guest.snmp()))
        received = self.guest.expect("tcp", 30)
        after = self.counters()
        report("TCP wire -> guest: %d bytes in %.2f s, guest's sha256 %s"
               % (sent["sent"], sent["seconds"], received["sha256"]))
        self.assertEqual(int(received["bytes"]), TCP_BYTES)
        self.assertEqual(received["sha256"], sent["sha256"])
        self.assertGreaterEqual(delta(before, after, "classified", "packets"), TCP_BYTES // 1448)
        self.assertGreaterEqual(delta(before, after, "delivered", "bytes"), TCP_BYTES)
        # The guest's ACKs left through the leg.
        self.assertGreater(delta(before, after, "leg", "from_guest"), 0, (before, after))

    def test_4_tcp_from_the_guest_to_the_wire_by_hash(self):
        self.assertIn(" 0% packet loss", self.ping_from("wire", vm_ip(GUEST_VM), 1))
        before = self.counters()
        receiver = App(self.lab, "wire", "tcp-recv", "--listen", WIRE_IP, "--port", GUEST_TO_WIRE_PORT,
                       "--seconds", 90, listening=True)
        self.addCleanup(receiver.stop)
        started = time.monotonic()
        sent = self.guest.command("tcp-send %s %d %d" % (WIRE_IP, GUEST_TO_WIRE_PORT, TCP_BYTES), "tcp-sent",
                                  timeout=120)
        received = receiver.result(timeout=30)
        after = self.counters()
        report("TCP guest -> wire: %s bytes in %.2f s, the wire's sha256 %s"
               % (sent["bytes"], time.monotonic() - started, received["sha256"]))
        self.assertEqual(int(sent["bytes"]), TCP_BYTES)
        self.assertEqual(received["received"], TCP_BYTES, received)
        self.assertEqual(received["sha256"], sent["sha256"])
        # The guest's segments left through the leg, each at most 1,514 bytes
        # (vmqd offers no segmentation offload); the wire's ACKs came through the queue.
        self.assertGreater(delta(before, after, "leg", "from_guest"), TCP_BYTES // 1514, (before, after))
        self.assertGreater(delta(before, after, "delivered", "packets"), 0, (before, after))

    def test_5_qemu_reconnects_after_vmqd_restarts_and_the_restored_queue_delivers(self):
        self.assertEqual(self.guest.link()["carrier"], "1")
        status = self.agent.stop()
        self.assertEqual(status, 0, self.agent.log_text()[-2000:])
        # No back end: QEMU reports the device's link down to the guest and keeps running.
        wait_for("the guest's link to go down with vmqd", lambda: self.guest.link()["carrier"],
                 lambda carrier: carrier == "0", timeout=20, interval=0.5)
        self.assert_qemu_running()
        self.assertIn("100% packet loss", self.ping_from("wire", vm_ip(GUEST_VM), 3))

        type(self).agent = Agent(self.lab, config=self.config, state_dir=self.state).start()
        queue = self.agent.queue(QUEUE)
        self.assertEqual((queue["port_kind"], queue["state"], queue["port"]),
                         ("vhost-user", "running", self.socket_path))
        # The log file is the first vmqd's too: the second "guest connected" is QEMU's reconnect.
        self.wait_connected(self.agent, 2)
        link = wait_for("the guest's link to come back", self.guest.link, lambda l: l["carrier"] == "1",
                        timeout=20, interval=0.5)
        report("after vmqd's restart: QEMU reconnected, the guest's eth0 %s" % link)
        before = self.counters()
        result = self.ping_from("wire", vm_ip(GUEST_VM))
        self.assertIn(" 0% packet loss", result, result)
        self.assertGreaterEqual(delta(before, self.counters(), "delivered", "packets"), 10)
        self.assert_udp_through_the_queue()
        self.assert_qemu_running()


if __name__ == "__main__":
    unittest.main()
