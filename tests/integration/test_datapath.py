"""vmqd's data path in the lab: real frames from the wire through the XDP
classifier into per-VM AF_XDP queues and out of the VMs' ports."""
import unittest

from vmqlab import Agent, Lab, require_root, thread_cpus, thread_last_cpu, vm_mac, wait_for


def delta(after, before, *path):
    for key in path:
        after, before = after[key], before[key]
    return after - before


def taken_or_dropped_at_socket(counters):
    """Frames of a queue its worker took, plus those the kernel dropped at its
    socket (no free UMEM frame, RX ring full): all it was classified."""
    return counters["received"] + counters["xsk"]["rx_dropped"] + counters["xsk"]["rx_ring_full"]


@require_root
class UnicastThroughQueues(unittest.TestCase):
    """Two VMs with a queue each on a one-rx-queue uplink."""

    @classmethod
    def setUpClass(cls):
        cls.lab = Lab("dp1", vms=2).__enter__()
        cls.agent = Agent(cls.lab).start()
        cls.agent.add_queue("vm1", 1, cpu=0)
        cls.agent.add_queue("vm2", 2, cpu=1)

    @classmethod
    def tearDownClass(cls):
        cls.agent.__exit__()
        cls.lab.__exit__()

    def test_ping_reaches_both_vms(self):
        for vm in (1, 2):
            before = self.agent.queue("vm%d" % vm)["counters"]
            result = self.lab.ping(vm, count=10)
            self.assertIn(" 0% packet loss", result.stdout, result.stdout)
            after = self.agent.queue("vm%d" % vm)["counters"]
            # Ten echo requests (plus, perhaps, an ARP reply) went through the queue.
            self.assertGreaterEqual(delta(after, before, "classified", "packets"), 10)
            self.assertEqual(delta(after, before, "delivered", "packets"), delta(after, before, "classified", "packets"))

    def test_udp_stream_counts_match_what_was_sent(self):
        receivers = {vm: self.lab.receiver("vm%d" % vm, seconds=20, expect=5000) for vm in (1, 2)}
        before = {vm: self.agent.queue("vm%d" % vm)["counters"] for vm in (1, 2)}
        for vm in (1, 2):
            sent = self.lab.send(dst_vm=vm, count=5000, rate=20000, flow=vm)
            self.assertEqual(sent["sent"], 5000)
        results = {vm: r.result() for vm, r in receivers.items()}
        self.agent.wait_quiet(["vm1", "vm2"])
        for vm in (1, 2):
            flow = results[vm]["flows"][str(vm)]
            self.assertEqual(flow["unique"], 5000, results[vm])
            self.assertEqual(flow["gaps"]["missing"], 0)
            after = self.agent.queue("vm%d" % vm)["counters"]
            self.assertEqual(delta(after, before[vm], "classified", "packets"), 5000)
            self.assertEqual(delta(after, before[vm], "received"), 5000)
            self.assertEqual(delta(after, before[vm], "delivered", "packets"), 5000)
            self.assertEqual(delta(after, before[vm], "delivered", "bytes"), 5000 * 64)
            self.assertEqual(after["dropped"], {"port_full": 0, "quota": 0, "port_refused": 0})

    def test_vm2_never_sees_a_frame_for_vm1(self):
        spy = self.lab.receiver("vm2", seconds=4, listen_udp=None)
        sent = self.lab.send(dst_vm=1, count=3000, rate=3000, flow=11)
        self.assertEqual(sent["sent"], 3000)
        seen = spy.result()
        self.assertNotIn(vm_mac(1), seen["by_dst"], "vm2 received frames addressed to vm1: %s" % seen)

    def test_broadcast_reaches_both_vms_through_the_bridge(self):
        receivers = {vm: self.lab.receiver("vm%d" % vm, seconds=10, expect=200, listen_udp=None) for vm in (1, 2)}
        before_default = self.agent.default_queue()
        before_queues = {vm: self.agent.queue("vm%d" % vm)["counters"] for vm in (1, 2)}
        self.lab.send(dst_mac="ff:ff:ff:ff:ff:ff", count=200, rate=2000, flow=21)
        for vm, r in receivers.items():
            self.assertEqual(r.result()["flows"]["21"]["unique"], 200)
        after_default = self.agent.default_queue()
        self.assertEqual(delta(after_default, before_default, "broadcast_multicast", "packets"), 200)
        for vm in (1, 2):
            after = self.agent.queue("vm%d" % vm)["counters"]
            self.assertEqual(delta(after, before_queues[vm], "classified", "packets"), 0)

    def test_arp_goes_through_the_bridge(self):
        self.lab.exec("wire", ["ip", "neigh", "flush", "dev", "wire0"])
        before = self.agent.default_queue()
        self.assertIn(" 0% packet loss", self.lab.ping(1, count=1).stdout)
        after = self.agent.default_queue()
        self.assertGreaterEqual(delta(after, before, "broadcast_multicast", "packets"), 1, "the ARP request")

    def test_each_worker_runs_on_its_queues_cpu(self):
        pid = self.agent.process.pid
        for name, cpu in (("vm1", 0), ("vm2", 1)):
            q = self.agent.queue(name)
            tid = q["worker"]["tid"]
            self.assertGreater(tid, 0)
            self.assertEqual(thread_cpus(pid, tid), str(cpu))
            self.lab.send(dst_vm=int(name[-1]), count=2000, rate=20000, flow=31)
            self.assertEqual(thread_last_cpu(pid, tid), cpu)


@require_root
class VlanDelivery(unittest.TestCase):
    def setUp(self):
        self.lab = Lab("dp2", vms=1).__enter__()
        self.agent = Agent(self.lab).start()

    def tearDown(self):
        self.agent.__exit__()
        self.lab.__exit__()

    def stream_to_vm1(self, vlan, count=500, flow=1):
        receiver = self.lab.receiver("vm1", seconds=10, idle_exit=1, listen_udp=None)
        self.lab.send(dst_vm=1, vlans=[vlan], count=count, rate=5000, flow=flow)
        return receiver.result()["flows"].get(str(flow), {"frames": 0, "by_vlan": {}})

    def test_access_mode_delivers_untagged_and_trunk_mode_tagged(self):
        self.agent.add_queue("vm1", 1, vlan=100, mode="access")
        flow = self.stream_to_vm1(100)
        self.assertEqual(flow["by_vlan"], {"untagged": 500})
        self.assertEqual(self.agent.queue("vm1")["counters"]["classified"]["packets"], 500)

        self.agent.json("queue", "del", "vm1")
        self.agent.add_queue("vm1", 1, vlan=100, mode="trunk")
        flow = self.stream_to_vm1(100, flow=2)
        self.assertEqual(flow["by_vlan"], {"100": 500})
        self.assertEqual(self.agent.queue("vm1")["counters"]["classified"]["packets"], 500)

    def test_same_mac_on_another_vlan_does_not_reach_the_queue(self):
        self.agent.add_queue("vm1", 1, vlan=100, mode="access")
        before = self.agent.default_queue()
        flow = self.stream_to_vm1(200)
        q = self.agent.queue("vm1")["counters"]
        self.assertEqual(q["classified"]["packets"], 0)
        self.assertEqual(delta(self.agent.default_queue(), before, "no_filter", "packets"), 500)
        # The bridge forwards it, still tagged: it never went through vm1's queue.
        self.assertEqual(flow["by_vlan"], {"200": 500})


@require_root
class CpuMoveUnderLoad(unittest.TestCase):
    def test_queue_set_cpu_moves_the_worker_without_losing_a_frame(self):
        with Lab("dp3", vms=1) as lab, Agent(lab) as agent:
            agent.add_queue("vm1", 1, cpu=0, frames=1024)
            receiver = lab.receiver("vm1", seconds=30, expect=40000)
            sender = lab.send(dst_vm=1, count=40000, rate=10000, flow=5, background=True)
            pid = agent.process.pid
            moves = 0
            taken = 0
            for cpu in (1, 0, 1, 0, 1):
                # Every move is made under load: the worker took another 5,000 frames of
                # the stream since the last one (25,000 of 40,000 before the fifth).
                target = taken + 5000
                taken = wait_for("vm1's worker to take %d frames of the stream before its move to CPU %d"
                                 % (target, cpu), lambda: agent.queue("vm1")["counters"]["received"],
                                 lambda received: received >= target, timeout=20, interval=0.25)
                agent.json("queue", "set", "vm1", "--cpu", str(cpu))
                tid = agent.queue("vm1")["worker"]["tid"]
                self.assertEqual(thread_cpus(pid, tid), str(cpu))
                moves += 1
            sender.wait(timeout=30)
            flow = receiver.result()["flows"]["5"]
            agent.wait_quiet(["vm1"])
            counters = agent.queue("vm1")["counters"]
            self.assertEqual(moves, 5)
            self.assertEqual(flow["unique"], 40000, flow)
            self.assertEqual(flow["gaps"]["missing"], 0)
            self.assertEqual(counters["dropped"], {"port_full": 0, "quota": 0, "port_refused": 0})
            self.assertEqual(counters["xsk"]["rx_ring_full"], 0)
            self.assertEqual(counters["xsk"]["rx_dropped"], 0)


@require_root
class MultipleRxQueues(unittest.TestCase):
    def test_a_queue_receives_on_every_rx_queue_of_the_uplink(self):
        with Lab("dp4", vms=1, rxqs=4) as lab, Agent(lab) as agent:
            status = agent.json("status")
            self.assertEqual(status["uplinks"][0]["rx_queues"], 4)
            agent.add_queue("vm1", 1)
            receiver = lab.receiver("vm1", seconds=20, expect=8000)
            # A veth's rx queue is its peer's transmit queue. Flow i leaves wire0 on
            # transmit queue i: the sender runs on CPU 0 and XPS maps CPU 0 to queue i.
            for i in range(4):
                for q in range(4):
                    lab.exec("wire", ["sh", "-c", "echo %d > /sys/class/net/wire0/queues/tx-%d/xps_cpus"
                                      % (1 if q == i else 0, q)])
                lab.send(dst_vm=1, count=2000, rate=20000, flow=100 + i, pin_cpu=0)
            result = receiver.result()
            self.assertEqual(sum(f["unique"] for f in result["flows"].values()), 8000)
            self.assertEqual(agent.queue("vm1")["counters"]["classified"]["packets"], 8000)
            # Each rx queue redirected its flow's 2,000 frames to vm1's socket on that queue.
            ethtool = lab.exec("host1", ["ethtool", "-S", "uplink0"]).stdout
            redirected = {line.split(":")[0].strip(): int(line.split(":")[1]) for line in ethtool.splitlines()
                          if line.strip().startswith("rx_queue_") and "xdp_redirect" in line}
            self.assertEqual(redirected, {"rx_queue_%d_xdp_redirect" % i: 2000 for i in range(4)}, ethtool)


@require_root
class UplinkMtu(unittest.TestCase):
    def test_the_classifier_build_follows_the_uplink_mtu(self):
        with Lab("dp7", vms=1) as lab:
            with Agent(lab) as agent:
                uplink = agent.json("status")["uplinks"][0]
                self.assertEqual((uplink["mtu"], uplink["classifier_build"]), (1500, "single-buffer"))
                self.assertIn("single-buffer frames at MTU 1500", agent.log_text())
                # A veth keeps frames longer than one buffer away from the single-buffer
                # build: it refuses the larger MTU on its peer, the wire's end.
                refused = lab.exec("wire", ["ip", "link", "set", "wire0", "mtu", "9000"], check=False)
                self.assertNotEqual(refused.returncode, 0, "a 9000-byte MTU was accepted")
            lab.exec("wire", ["ip", "link", "set", "wire0", "mtu", "9000"])
            with Agent(lab) as agent:
                # Uplink at 1500 but its peer at 9000: the veth refuses a single-buffer
                # program, and vmqd takes the multi-buffer build, still native.
                uplink = agent.json("status")["uplinks"][0]
                self.assertEqual((uplink["mtu"], uplink["classifier_build"], uplink["attach_mode"]),
                                 (1500, "multi-buffer", "native"))
                self.assertIn("does not attach natively", agent.log_text())
            lab.exec("host1", ["ip", "link", "set", "uplink0", "mtu", "9000"])
            with Agent(lab) as agent:
                uplink = agent.json("status")["uplinks"][0]
                self.assertEqual((uplink["mtu"], uplink["classifier_build"]), (9000, "multi-buffer"))
                self.assertIn("multi-buffer frames at MTU 9000", agent.log_text())
                self.assertRegex(agent.vmqctl("status")[1], r"9000\s+multi-buffer")
                agent.add_queue("vm1", 1)
                lab.send(dst_vm=1, count=20, rate=1000, size=6000)
                lab.send(dst_vm=1, count=30, rate=1000, size=1000)
                agent.wait_quiet(["vm1"])
                self.assertEqual(agent.default_queue()["oversize"]["packets"], 20)
                # (and the 1000-byte ones through vm1's queue, beside the lab's own ARP)
                self.assertGreaterEqual(agent.queue("vm1")["counters"]["classified"]["packets"], 30)


@require_root
class UmemAccounting(unittest.TestCase):
    def test_every_umem_frame_comes_back_after_load(self):
        with Lab("dp5", vms=2) as lab, Agent(lab, extra_args=["--umem-frames", "2048"]) as agent:
            agent.add_queue("vm1", 1, cpu=0)
            agent.add_queue("vm2", 2, cpu=1)
            senders = [lab.send(dst_vm=vm, count=100000, rate=0, flow=vm, background=True, max_seconds=60)
                       for vm in (1, 2)]
            for s in senders:
                s.wait(timeout=90)
            agent.wait_quiet(["vm1", "vm2"])
            umem = agent.umem()
            self.assertEqual(umem["frames_total"], 2048)
            self.assertEqual(umem["frames_in_flight"], 0)
            self.assertEqual(umem["frames_in_worker"], 0)
            self.assertEqual(umem["frames_lost"], 0)
            # Independent check: every frame is back in the fill ring, read from the ring itself.
            self.assertEqual(umem["fill_ring_entries"], umem["frames_total"])
            for name in ("vm1", "vm2"):
                c = agent.queue(name)["counters"]
                self.assertGreater(c["received"], 10000, "the load was not real")
                # Every frame classified into the queue was received by its worker or
                # dropped by the kernel at a full RX ring, and every frame received
                # was delivered or dropped (and counted) by the worker.
                self.assertEqual(c["classified"]["packets"], taken_or_dropped_at_socket(c))
                self.assertEqual(c["received"], c["delivered"]["packets"] + c["dropped"]["port_full"] +
                                 c["dropped"]["quota"] + c["dropped"]["port_refused"])


@require_root
class StalledPort(unittest.TestCase):
    def test_a_port_that_stops_draining_cannot_exhaust_the_umem(self):
        with Lab("dp6", vms=2) as lab, Agent(lab, extra_args=["--umem-frames", "1024"]) as agent:
            agent.add_queue("vm1", 1, frames=128)
            agent.add_queue("vm2", 2, frames=512)
            lab.exec("host1", ["ip", "link", "set", "vm1port", "down"])  # vm1 stops draining
            receiver = lab.receiver("vm2", seconds=20, expect=20000)
            stuck = lab.send(dst_vm=1, count=20000, rate=20000, flow=1, background=True)
            sent = lab.send(dst_vm=2, count=20000, rate=20000, flow=2)
            stuck.wait(timeout=30)
            self.assertEqual(sent["sent"], 20000)
            flow = receiver.result()["flows"]["2"]
            self.assertEqual(flow["unique"], 20000, "vm2 lost frames while vm1's port was down")
            vm2 = agent.queue("vm2")["counters"]["xsk"]
            self.assertEqual(vm2["rx_dropped"] + vm2["rx_fill_ring_empty"], 0, "vm2 found the UMEM empty")
            # Every frame classified into vm1's queue was taken by its worker or
            # dropped by the kernel at its socket (RX ring full while the worker was
            # busy); the worker takes the last ones a moment after the sender ends.
            vm1 = wait_for("every frame classified into vm1's queue to be taken or dropped at its socket",
                           lambda: agent.queue("vm1")["counters"],
                           lambda c: taken_or_dropped_at_socket(c) == c["classified"]["packets"], timeout=10)
            self.assertLessEqual(vm1["in_flight"], 128, "vm1 held more than its quota")
            self.assertGreater(vm1["dropped"]["port_full"] + vm1["dropped"]["quota"], 0)
            # Port back up: vm1 receives again and its frames come home.
            lab.exec("host1", ["ip", "link", "set", "vm1port", "up"])
            receiver = lab.receiver("vm1", seconds=10, expect=100)
            lab.send(dst_vm=1, count=100, rate=1000, flow=3, start_seq=0)
            self.assertEqual(receiver.result()["flows"]["3"]["unique"], 100)
            agent.wait_quiet(["vm1", "vm2"])
            umem = agent.umem()
            self.assertEqual(umem["frames_lost"], 0)
            self.assertEqual(umem["fill_ring_entries"], umem["frames_total"])


@require_root
class PortThatDropsAtTransmit(unittest.TestCase):
    def test_frames_the_port_drops_count_as_refused_not_delivered(self):
        with Lab("dp7", vms=1) as lab, Agent(lab) as agent:
            agent.add_queue("vm1", 1)
            # The guest's end down: the port has no carrier, and the kernel drops each
            # frame at transmit (the port stays up, so transmits are not refused outright).
            lab.exec("vm1", ["ip", "link", "set", "eth0", "down"])
            before = agent.queue("vm1")["counters"]
            sent = lab.send(dst_vm=1, count=1000, rate=2000, flow=1)
            self.assertEqual(sent["sent"], 1000)
            agent.wait_quiet(["vm1"])
            after = agent.queue("vm1")["counters"]
            self.assertEqual(delta(after, before, "received"), 1000)
            self.assertEqual(delta(after, before, "delivered", "packets"), 0)
            self.assertEqual(delta(after, before, "delivered", "bytes"), 0)
            self.assertEqual(delta(after, before, "dropped", "port_refused"), 1000)
            umem = agent.umem()
            self.assertEqual(umem["frames_lost"], 0)
            self.assertEqual(umem["fill_ring_entries"], umem["frames_total"])
            # The guest back: frames are delivered again, and counted as such.
            lab.exec("vm1", ["ip", "link", "set", "eth0", "up"])
            receiver = lab.receiver("vm1", seconds=10, expect=500)
            lab.send(dst_vm=1, count=500, rate=2000, flow=2)
            self.assertEqual(receiver.result()["flows"]["2"]["unique"], 500)
            agent.wait_quiet(["vm1"])
            final = agent.queue("vm1")["counters"]
            self.assertEqual(delta(final, after, "delivered", "packets"), 500)
            self.assertEqual(delta(final, after, "delivered", "bytes"), 500 * 64)
            self.assertEqual(delta(final, after, "dropped", "port_refused"), 0)


if __name__ == "__main__":
    unittest.main()
