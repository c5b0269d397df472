"""What a VM's applications see through vmq: ordinary kernel UDP and TCP
sockets in the VMs, sending from the wire's own sockets with the wire's
default offloads (a veth defers TCP/UDP checksums to the device), and VM
ports whose bridge learning and unicast flooding are off, so that only vmq
can deliver unicast to a VM."""
import json
import subprocess
import unittest

from vmqlab import App, Agent, Lab, require_root, vm_ip, wait_for

MIB = 1 << 20
TCP_BYTES = 16 * MIB
UDP_COUNT = 2000


def vm_ip6(n):
    return "fd77::1%d" % n


WIRE_IP6 = "fd77::1"


def counter(agent, queue, *path):
    value = agent.queue(queue)["counters"]
    for key in path:
        value = value[key]
    return value


@require_root
class ApplicationsThroughVmq(unittest.TestCase):
    """vm1: a queue for untagged frames. vm2: a queue for VLAN 100 in access
    mode. vm3: a queue for VLAN 300 in trunk mode. vm4: no queue at all."""

    @classmethod
    def setUpClass(cls):
        cls.lab = Lab("app1", vms=4, ipv6=True).__enter__()
        try:
            for n in range(1, 5):
                port = "vm%dport" % n
                cls.lab.exec("host1", ["bridge", "link", "set", "dev", port, "learning", "off", "flood", "off"])
                # Forget what the bridge learned while the port came up.
                cls.lab.exec("host1", ["ip", "link", "set", "dev", port, "type", "bridge_slave", "fdb_flush"])
            cls.agent = Agent(cls.lab).start()
            cls.agent.add_queue("vm1", 1, cpu=0)
            cls.agent.add_queue("vm2", 2, vlan=100, mode="access", cpu=1)
            cls.agent.add_queue("vm3", 3, vlan=300, mode="trunk", cpu=1)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "agent", None):
            cls.agent.__exit__()
        cls.lab.__exit__()

    def setUp(self):
        # The point of these tests: the wire defers its checksums, as veths do by default.
        features = self.lab.exec("wire", ["ethtool", "-k", "wire0"]).stdout
        self.assertIn("tx-checksumming: on", features)

    def wire_offloads(self, on):
        self.lab.exec("wire", ["ethtool", "-K", "wire0", "tx", "on" if on else "off"])

    # --- the traffic ------------------------------------------------------

    def udp_to_vm(self, vm, address, port=5001, count=UDP_COUNT):
        """Sends `count` datagrams from a UDP socket on the wire; returns how many
        the VM's UDP socket received."""
        receiver = App(self.lab, "vm%d" % vm, "udp-recv", "--port", port, "--count", count, "--seconds", 30,
                       "--idle", 3, listening=True)
        try:
            sent = App(self.lab, "wire", "udp-send", "--to", address, "--port", port, "--count", count, "--rate",
                       5000, "--size", 200).result()
            self.assertEqual(sent["sent"], count)
            return receiver.result()["received"]
        finally:
            receiver.stop()

    def tcp_to_vm(self, vm, address, port=5002):
        """The wire connects to a server in the VM and sends TCP_BYTES."""
        receiver = App(self.lab, "vm%d" % vm, "tcp-recv", "--listen", "::", "--port", port, listening=True)
        try:
            sent = App(self.lab, "wire", "tcp-send", "--connect", address, "--port", port, "--bytes", TCP_BYTES,
                       "--seed", port).result()
            got = receiver.result()
        finally:
            receiver.stop()
        self.assertEqual(got["received"], TCP_BYTES)
        self.assertEqual(got["sha256"], sent["sha256"])

    def tcp_pulled_by_vm(self, vm, wire_address, port=5003):
        """The VM connects to a server on the wire and downloads TCP_BYTES."""
        server = App(self.lab, "wire", "tcp-send", "--listen", wire_address, "--port", port, "--bytes", TCP_BYTES,
                     "--seed", port, listening=True)
        try:
            got = App(self.lab, "vm%d" % vm, "tcp-recv", "--connect", wire_address, "--port", port).result()
            sent = server.result()
        finally:
            server.stop()
        self.assertEqual(got["received"], TCP_BYTES)
        self.assertEqual(got["sha256"], sent["sha256"])

    def run_all_over(self, family):
        vm_address, wire_address = (vm_ip(1), "10.77.0.1") if family == 4 else (vm_ip6(1), WIRE_IP6)
        before = self.agent.queue("vm1")["counters"]
        self.assertEqual(self.udp_to_vm(1, vm_address), UDP_COUNT, "the VM's UDP socket lost datagrams")
        self.agent.wait_quiet(["vm1"])
        # A paced stream fits the queue: nothing dropped. (TCP's bursts from a
        # sender on the same host may outrun one worker, as any receive queue
        # can overflow; TCP recovers and the hashes below prove the content.)
        self.assertEqual(self.agent.queue("vm1")["counters"]["dropped"], before["dropped"])
        self.tcp_to_vm(1, vm_address)
        self.tcp_pulled_by_vm(1, wire_address)
        self.agent.wait_quiet(["vm1"])
        after = self.agent.queue("vm1")["counters"]
        data_frames = UDP_COUNT + 2 * TCP_BYTES // 1500
        self.assertGreaterEqual(after["delivered"]["packets"] - before["delivered"]["packets"], data_frames)
        return after["checksum_completed"] - before["checksum_completed"], data_frames

    # --- the tests ----------------------------------------------------------

    def test_udp_and_tcp_over_ipv4_with_deferred_checksums(self):
        completed, data_frames = self.run_all_over(4)
        self.assertGreaterEqual(completed, data_frames, "vmq did not complete the wire's deferred checksums")

    def test_udp_and_tcp_over_ipv6_with_deferred_checksums(self):
        completed, data_frames = self.run_all_over(6)
        self.assertGreaterEqual(completed, data_frames, "vmq did not complete the wire's deferred checksums")

    def test_udp_and_tcp_with_the_wires_offloads_off(self):
        self.wire_offloads(False)
        try:
            for family in (4, 6):
                completed, data_frames = self.run_all_over(family)
                # Complete checksums are left as they are. One in 65,536 equals the
                # pseudo-header sum and is counted (its bytes stay the same: unit tests).
                self.assertLessEqual(completed, data_frames // 1000, "complete checksums were taken for deferred ones")
        finally:
            self.wire_offloads(True)

    def test_without_a_queue_the_bridge_cannot_deliver(self):
        # vm4 has no queue and its port floods no unknown unicast: the same
        # traffic must not arrive, so the other tests' traffic came through vmq.
        self.assertEqual(self.udp_to_vm(4, vm_ip(4), count=200), 0)
        self.assertEqual(self.udp_to_vm(4, vm_ip6(4), count=200), 0)

    def test_stats_show_each_workers_load(self):
        # While vm1's worker (CPU 0) delivers a stream, vmqd reports its busy share
        # and its CPU time per frame over the last second.
        sender = self.lab.send(dst_vm=1, count=20000, rate=5000, flow=11, background=True)
        try:
            worker = wait_for("a load reported for CPU 0's worker",
                              lambda: {w["cpu"]: w for w in self.agent.stats()["workers"]}.get(0),
                              lambda w: w is not None and w["ns_per_frame"] and w["busy_share"], timeout=4,
                              interval=0.2)
        finally:
            sender.wait()
        self.assertGreater(worker["busy_share"], 0)
        self.assertLessEqual(worker["busy_share"], 1)
        self.assertGreater(worker["frames"], 0)
        self.assertEqual(worker["queues"], 1)
        self.assertGreater(worker["cpu_seconds"], 0)
        status, out, _ = self.agent.vmqctl("stats")
        self.assertEqual(status, 0)
        self.assertIn("NS/FRAME", out)

    def test_access_mode_vm_receives_tagged_frames_untagged_with_their_checksums_completed(self):
        # This kernel has no 802.1q module, so tagged frames are crafted: UDP
        # with the checksum field as a sender with checksum offload leaves it.
        before = counter(self.agent, "vm2", "checksum_completed")
        receiver = App(self.lab, "vm2", "udp-recv", "--port", 9, "--count", 1000, "--seconds", 30, "--idle", 3,
                       listening=True)
        try:
            sent = self.lab.send(dst_vm=2, count=1000, rate=5000, vlans=[100], size=300, udp_checksum="deferred")
            self.assertEqual(sent["sent"], 1000)
            self.assertEqual(receiver.result()["received"], 1000)
        finally:
            receiver.stop()
        self.assertEqual(counter(self.agent, "vm2", "checksum_completed") - before, 1000)

    def test_trunk_mode_vm_receives_tagged_frames_with_valid_checksums(self):
        # Without a VLAN device in the VM (no 802.1q module here) its sockets
        # cannot see tagged frames, so a packet socket checks every checksum.
        for checksum, completed in (("deferred", 1000), ("complete", 0)):
            before = counter(self.agent, "vm3", "checksum_completed")
            receiver = self.lab.receiver("vm3", seconds=20, expect=1000)
            sent = self.lab.send(dst_vm=3, count=1000, rate=5000, vlans=[300], size=300, flow=7,
                                 udp_checksum=checksum)
            self.assertEqual(sent["sent"], 1000)
            got = receiver.result()
            self.assertEqual(got["flows"]["7"]["by_vlan"], {"300": 1000})
            self.assertEqual(got["udp_checksums"], {"valid": 1000}, checksum)
            self.assertEqual(counter(self.agent, "vm3", "checksum_completed") - before, completed, checksum)


if __name__ == "__main__":
    unittest.main()
