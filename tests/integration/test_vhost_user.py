"""vhost-user ports (issue 10): vmqd is the vhost-user back end of a VM's
virtio-net device, and a real virtio driver is the guest: DPDK's virtio-user
PMD in dpdk-testpmd, which counts what reaches its RX ring. The VM's queue puts
its frames into the guest's memory; its leg in the bridge carries broadcast to
the guest and the guest's transmit to the wire. Bad socket paths are refused
with nothing created; the socket's group and mode are as configured; a guest
that goes away and another that connects; a drain under a stream delivers
every frame it holds; vmqd restarted listens again for the restored queue.

A vhost-user VM is reachable like a tap VM: a guest with a kernel IP stack
(testpmd forwarding between its virtio-user port and a kernel tap, the
guest's eth0, in a namespace of its own) answers the wire's ARP through the
leg and its pings through the queue, receives UDP datagrams in a socket,
exchanges 4 MiB over TCP each way with the wire, and pings a tap VM and the
host (an address on br0) and is pinged by them."""
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import time
import unittest

from vmqlab import WIRE_IP, Agent, App, Lab, require_root, run, vm_ip, vm_mac, wait_for

TESTPMD = shutil.which("dpdk-testpmd") or "/usr/bin/dpdk-testpmd"
RATE = 10000


def testpmd_command(prefix, vdevs, options):
    """dpdk-testpmd without hugepages or PCI, its main core on CPU 0 and its
    one busy forwarding core on CPU 1 (vmqd's queues in these tests run on
    CPU 0), printing its port statistics every second."""
    cmd = ["stdbuf", "-oL", TESTPMD, "--no-huge", "-m", "256", "--no-pci", "--single-file-segments",
           "--file-prefix", prefix]
    for vdev in vdevs:
        cmd += ["--vdev", vdev]
    return cmd + ["-l", "0,1", "--", "--stats-period", "1", "-a", "--no-lsc-interrupt", "--total-num-mbufs=8192",
                  "--nb-cores=1"] + options


def virtio_user_vdev(path, mac):
    return "net_virtio_user0,path=%s,queues=1,queue_size=1024,mac=%s" % (path, mac)


class Guest:
    """dpdk-testpmd with one virtio-user port on a vhost-user socket: rxonly
    counts what the guest receives, txonly transmits to `peer`."""

    def __init__(self, workdir, path, mac, mode="rxonly", peer=None, checksum_offload=False):
        options = ["--forward-mode=" + mode]
        if peer:
            options += ["--eth-peer=0," + peer]
        if checksum_offload:  # UDP and TCP checksum offload: the driver negotiates VIRTIO_NET_F_GUEST_CSUM
            options += ["--rx-offloads=0xc"]
        self.start(workdir, path, mode, [virtio_user_vdev(path, mac)], options)

    def start(self, workdir, path, name, vdevs, options, namespace=None):
        self.prefix = "vmqvu%d" % os.getpid() + os.path.basename(path).replace(".", "")
        self.log_path = os.path.join(workdir, self.prefix + "-" + name + ".log")
        cmd = testpmd_command(self.prefix, vdevs, options)
        if namespace:
            cmd = ["ip", "netns", "exec", namespace] + cmd
        # Line-buffered: its statistics reach the log as it prints them.
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def counter(self, name):
        found = re.findall(r"%s:\s+(\d+)" % name, self.output())
        return int(found[-1]) if found else 0

    def received(self):
        return self.counter("RX-packets")

    def transmitted(self):
        return self.counter("TX-packets")

    def wait_forwarding(self, timeout=20):
        """Until testpmd polls its rings (its first statistics): frames sent
        earlier, once the guest's RX ring is full, are refused."""
        wait_for("testpmd to start forwarding", lambda: "Port statistics" in self.output(), lambda up: up,
                 timeout=timeout, interval=0.2)

    def wait_received(self, count, timeout=20):
        return wait_for("the guest's RX count to reach %d" % count, self.received, lambda n: n >= count,
                        timeout=timeout, interval=0.5)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree("/var/run/dpdk/" + self.prefix, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


class KernelGuest(Guest):
    """A vhost-user VM with a kernel IP stack, in a namespace of its own that
    the lab's teardown also removes. There testpmd forwards (io) between port
    0, a virtio-user device on vmqd's socket (the VM's virtio-net device), and
    port 1, DPDK's TAP PMD, whose kernel tap is the guest's eth0: the VM's MAC,
    the MAC its queue filters on, and its lab address."""

    def __init__(self, lab, path, vm):
        self.role = "vhost-vm%d" % vm
        self.namespace = lab.ns(self.role)
        self.mac, self.ip = vm_mac(vm), vm_ip(vm)
        self.process = self.log = None
        run(["ip", "netns", "add", self.namespace])
        try:
            self.run(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"])
            self.run(["ip", "link", "set", "lo", "up"])
            vdevs = [virtio_user_vdev(path, self.mac), "net_tap0,iface=eth0,mac=" + self.mac]
            self.start(lab.workdir, path, "kernel", vdevs, ["--forward-mode=io"], namespace=self.namespace)
            self.configure_eth0()
        except BaseException:
            self.stop()
            raise

    def run(self, cmd, **kwargs):
        return run(["ip", "netns", "exec", self.namespace] + cmd, **kwargs)

    def configure_eth0(self):
        # Set once testpmd forwards: a MAC set earlier was replaced by a random
        # one when the TAP PMD's port started.
        self.wait_forwarding()
        self.run(["ip", "link", "set", "eth0", "address", self.mac])
        self.run(["ip", "addr", "add", self.ip + "/24", "dev", "eth0"])
        self.run(["ip", "link", "set", "eth0", "up"])

    def ping(self, ip, count=10):
        return ping_replies(self.run(ping_command(ip, count), check=False))

    def stop(self):
        if self.process:
            super().stop()
        run(["ip", "netns", "del", self.namespace], check=False)


def ping_command(ip, count):
    """Bounded: `count` echo requests 50 ms apart, each waiting at most 1 s."""
    return ["ping", "-c", str(count), "-i", "0.05", "-W", "1", "-q", ip]


def ping_replies(result):
    """The number of echo replies a `ping -q` run reports."""
    found = re.search(r"(\d+) received", result.stdout)
    if not found:
        raise AssertionError("ping reported no count: %s%s" % (result.stdout, result.stderr))
    return int(found.group(1))


def bridge_config(lab, extra=""):
    path = os.path.join(lab.workdir, "vmqd.toml")
    with open(path, "w") as f:
        f.write('vhost_user_bridge = "br0"\n' + extra)
    return path


def add_vhost_queue(agent, name, vm, path, *more):
    return agent.vmqctl("--json", "queue", "add", name, "--uplink", "uplink0", "--vhost-user", path,
                        "--mac", vm_mac(vm), "--untagged", "--cpu", "0", *more)


def guest_connected(agent, path, guest, since=0):
    text = "vhost-user socket %s: guest connected" % path
    wait_for("vmqd to log '%s'" % text, lambda: agent.log_text().count(text), lambda n: n > since, timeout=20)
    guest.wait_forwarding()


def wire_rx_packets(lab):
    out = lab.exec("wire", ["ip", "-j", "-s", "link", "show", "wire0"]).stdout
    return json.loads(out)[0]["stats64"]["rx"]["packets"]


VHOST_VM = 3  # the vhost-user VM's MAC and address: no lab VM has them
VHOST_QUEUE = "vm%d" % VHOST_VM
HOST_IP = "10.77.0.2"  # br0's address in the host namespace, for host-to-VM traffic
DATAGRAMS = 2000
TCP_BYTES = 4 << 20


def start_vhost_queue(test, agent, lab):
    """The vhost-user VM's queue, with its leg in br0; returns its socket's path."""
    path = os.path.join(lab.workdir, VHOST_QUEUE + ".sock")
    status, _, err = add_vhost_queue(agent, VHOST_QUEUE, VHOST_VM, path)
    test.assertEqual(status, 0, err)
    return path


def delta(before, after, *keys):
    for key in keys:
        before, after = before[key], after[key]
    return after - before


def wire_neighbour(lab, ip):
    """The MAC the wire's ARP table holds for ip."""
    entries = json.loads(lab.exec("wire", ["ip", "-j", "neigh", "show", ip]).stdout)
    return entries[0].get("lladdr") if entries else None


@require_root
class VhostUser(unittest.TestCase):
    def test_unicast_reaches_the_guest_through_the_queue_and_broadcast_through_the_leg(self):
        with Lab("vu1", vms=1) as lab:
            with Agent(lab, config=bridge_config(lab)) as agent:
                path = os.path.join(lab.workdir, "vm1.sock")
                status, out, err = add_vhost_queue(agent, "vm1", 1, path)
                self.assertEqual(status, 0, err)
                self.assertEqual(json.loads(out)["port_kind"], "vhost-user")
                with Guest(lab.workdir, path, vm_mac(1)) as guest:
                    guest_connected(agent, path, guest)
                    sent = lab.send(dst_vm=1, count=20000, rate=RATE)
                    self.assertEqual(sent["sent"], 20000)
                    counters = wait_for("the queue to account for all 20000 frames",
                                        lambda: agent.queue("vm1")["counters"],
                                        lambda c: c["delivered"]["packets"] + c["dropped"]["port_refused"] >= 20000)
                    delivered = counters["delivered"]["packets"]
                    # A frame is refused only when the guest's RX ring is full (a
                    # guest that a loaded machine does not run); the guest got
                    # exactly what vmq delivered.
                    self.assertEqual(delivered + counters["dropped"]["port_refused"], 20000, counters)
                    self.assertGreaterEqual(delivered, 19000, counters)
                    guest.wait_received(delivered)

                    # Broadcast is the default queue's: the bridge floods it to the leg.
                    # (What the bridge sent the leg before the guest connected was refused.)
                    leg_before = agent.queue("vm1")["counters"]["leg"]
                    lab.send(dst_mac="ff:ff:ff:ff:ff:ff", count=500, rate=RATE)
                    guest.wait_received(delivered + 500)
                    self.assertEqual(agent.queue("vm1")["counters"]["delivered"]["packets"], delivered,
                                     "broadcast does not take the VM's queue")
                    time.sleep(1.5)  # one more stats period: nothing else arrives
                    self.assertEqual(guest.received(), delivered + 500)
                    leg = agent.queue("vm1")["counters"]["leg"]
                    self.assertEqual(leg["to_guest"] - leg_before["to_guest"], 500, (leg_before, leg))
                    self.assertEqual(leg["to_guest_refused"], leg_before["to_guest_refused"], (leg_before, leg))

    def test_a_deferred_checksum_goes_in_the_virtio_header_or_is_completed_for_a_guest_without_offload(self):
        with Lab("vu9", vms=1) as lab:
            with Agent(lab) as agent:
                path = os.path.join(lab.workdir, "vm1.sock")
                status, _, err = add_vhost_queue(agent, "vm1", 1, path)
                self.assertEqual(status, 0, err)
                # A guest that negotiated GUEST_CSUM gets NEEDS_CSUM: vmq leaves the sum to it.
                with Guest(lab.workdir, path, vm_mac(1), checksum_offload=True) as guest:
                    guest_connected(agent, path, guest)
                    self.assertRegex(agent.log_text(), r"guest connected \(device \d+, features 0x[0-9a-f]*[2367abef]\)")
                    lab.send(dst_vm=1, count=1000, rate=RATE, udp_checksum="deferred")
                    guest.wait_received(1000)
                    counters = agent.queue("vm1")["counters"]
                    self.assertEqual(counters["delivered"]["packets"], 1000, counters)
                    self.assertEqual(counters["checksum_completed"], 0, counters)
                guest.process.wait()
                wait_for("vmqd to see the guest go", lambda: agent.log_text().count("guest disconnected"),
                         lambda n: n >= 1)
                # A guest without checksum offload gets complete checksums: vmq completes them.
                with Guest(lab.workdir, path, vm_mac(1)) as guest:
                    guest_connected(agent, path, guest, since=1)
                    lab.send(dst_vm=1, count=1000, rate=RATE, udp_checksum="deferred")
                    guest.wait_received(1000)
                    counters = agent.queue("vm1")["counters"]
                    self.assertEqual(counters["delivered"]["packets"], 2000, counters)
                    self.assertEqual(counters["checksum_completed"], 1000, counters)

    def test_what_the_guest_transmits_reaches_the_wire_through_the_leg(self):
        with Lab("vu2", vms=1) as lab:
            with Agent(lab, config=bridge_config(lab)) as agent:
                path = os.path.join(lab.workdir, "vm1.sock")
                status, _, err = add_vhost_queue(agent, "vm1", 1, path)
                self.assertEqual(status, 0, err)
                before = wire_rx_packets(lab)
                with Guest(lab.workdir, path, vm_mac(1), mode="txonly", peer="52:54:00:77:00:fe") as guest:
                    guest_connected(agent, path, guest)
                    wait_for("the guest's frames on the wire", lambda: wire_rx_packets(lab) - before,
                             lambda n: n >= 10000, timeout=20)
                    leg = agent.queue("vm1")["counters"]["leg"]
                    self.assertGreaterEqual(leg["from_guest"], 10000, leg)
                self.assertGreater(guest.transmitted(), 0)

    def test_no_guest_means_refused_frames_then_a_new_guest_receives(self):
        with Lab("vu3", vms=1) as lab:
            with Agent(lab) as agent:
                path = os.path.join(lab.workdir, "vm1.sock")
                status, _, err = add_vhost_queue(agent, "vm1", 1, path)
                self.assertEqual(status, 0, err)
                lab.send(dst_vm=1, count=1000, rate=RATE)
                wait_for("1000 frames refused with no guest connected",
                         lambda: agent.queue("vm1")["counters"]["dropped"]["port_refused"], lambda n: n == 1000)
                with Guest(lab.workdir, path, vm_mac(1)) as first:
                    guest_connected(agent, path, first)
                    lab.send(dst_vm=1, count=1000, rate=RATE)
                    first.wait_received(1000)
                first.process.wait()
                wait_for("vmqd to see the guest go", lambda: agent.log_text().count("guest disconnected"),
                         lambda n: n >= 1)
                with Guest(lab.workdir, path, vm_mac(1)) as second:
                    guest_connected(agent, path, second, since=1)
                    lab.send(dst_vm=1, count=1000, rate=RATE)
                    second.wait_received(1000)
                counters = agent.queue("vm1")["counters"]
                self.assertEqual(counters["delivered"]["packets"], 2000, counters)
                self.assertEqual(counters["dropped"]["port_refused"], 1000, counters)
                self.assertNotIn("leg", counters, "no vhost_user_bridge: no leg")

    def test_bad_socket_paths_are_refused_and_nothing_is_created(self):
        with Lab("vu4", vms=1) as lab:
            with Agent(lab) as agent:
                regular = os.path.join(lab.workdir, "not-a-socket")
                with open(regular, "w") as f:
                    f.write("keep me\n")
                taken = os.path.join(lab.workdir, "taken.sock")
                listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                listener.bind(taken)
                listener.listen(1)
                try:
                    cases = {
                        os.path.join(lab.workdir, "missing", "vm1.sock"): "directory",
                        regular: "not a socket",
                        taken: "another process listens",
                        "/" + "d" * 120: "longer than",
                    }
                    for path, why in cases.items():
                        status, out, err = add_vhost_queue(agent, "vm1", 1, path)
                        self.assertNotEqual(status, 0, path)
                        self.assertIn(why, err + out, path)
                    status, out, err = agent.vmqctl("queue", "add", "vm1", "--uplink", "uplink0", "--port", "vm1port",
                                                    "--vhost-user", taken, "--mac", vm_mac(1))
                    self.assertNotEqual(status, 0)
                    status, out, err = add_vhost_queue(agent, "vm1", 1, os.path.join(lab.workdir, "two.sock"))
                    self.assertEqual(status, 0, err)
                    status, out, err = agent.vmqctl("queue", "add", "vm2", "--uplink", "uplink0", "--vhost-user",
                                                    os.path.join(lab.workdir, "two.sock"), "--mac", vm_mac(2))
                    self.assertNotEqual(status, 0)
                    self.assertIn("already delivers", err)
                finally:
                    listener.close()
                with open(regular) as f:
                    self.assertEqual(f.read(), "keep me\n")
                self.assertEqual([q["name"] for q in agent.json("queue", "list")["queues"]], ["vm1"])

    def test_the_socket_has_the_configured_group_and_mode_and_goes_with_its_queue(self):
        with Lab("vu5", vms=1) as lab:
            config = os.path.join(lab.workdir, "vmqd.toml")
            with open(config, "w") as f:
                f.write('vhost_user_socket_group = "nogroup"\nvhost_user_socket_mode = "0640"\n')
            with Agent(lab, config=config) as agent:
                path = os.path.join(lab.workdir, "vm1.sock")
                status, _, err = add_vhost_queue(agent, "vm1", 1, path)
                self.assertEqual(status, 0, err)
                st = os.stat(path)
                self.assertTrue(stat.S_ISSOCK(st.st_mode))
                self.assertEqual(stat.S_IMODE(st.st_mode), 0o640)
                self.assertEqual(st.st_gid, __import__("grp").getgrnam("nogroup").gr_gid)
                status, _, err = agent.vmqctl("queue", "del", "vm1")
                self.assertEqual(status, 0, err)
                wait_for("the socket to go with its queue", lambda: os.path.exists(path), lambda e: not e)

    def test_a_world_connectable_mode_is_refused_at_start(self):
        with Lab("vu6", vms=1) as lab:
            config = os.path.join(lab.workdir, "vmqd.toml")
            with open(config, "w") as f:
                f.write('vhost_user_socket_mode = "0666"\n')
            agent = Agent(lab, config=config)
            try:
                agent.start(wait_ready=False)
                status = agent.process.wait(timeout=20)
                log = agent.log_text()
            finally:
                agent.__exit__(None, None, None)
            self.assertNotEqual(status, 0)
            self.assertIn("vhost_user_socket_mode", log)
            self.assertIn("lets every user connect", log)

    def test_a_drain_under_a_stream_delivers_every_frame_it_holds_and_restore_listens_again(self):
        frames = 40000
        with Lab("vu7", vms=1) as lab:
            with Agent(lab) as agent:
                path = os.path.join(lab.workdir, "vm1.sock")
                status, _, err = add_vhost_queue(agent, "vm1", 1, path, "--frames", "2048")
                self.assertEqual(status, 0, err)
                document = os.path.join(lab.workdir, "vm1.json")
                with Guest(lab.workdir, path, vm_mac(1)) as guest:
                    guest_connected(agent, path, guest)
                    sender = lab.send(dst_vm=1, count=frames, rate=RATE, background=True)
                    wait_for("a second of the stream through the queue",
                             lambda: agent.queue("vm1")["counters"]["classified"]["packets"],
                             lambda n: n >= RATE, timeout=30, interval=0.25)
                    drained = agent.json("migrate", "drain", "vm1", "--output", document)
                    sender.wait(timeout=30)
                    counters = drained["document"]["counters_at_drain"]
                    # The queue is gone and there is no leg: the queue was the guest's only way in.
                    wait_for("the guest to count what the queue delivered", guest.received,
                             lambda n: n >= counters["delivered"]["packets"], timeout=10, interval=0.5)
                    time.sleep(1.5)
                    got = guest.received()
                # Inside vmq nothing is lost: every frame classified to the queue was
                # taken from its ring and put into the guest's memory, or refused by
                # a full guest ring (the guest's own loss, counted).
                self.assertEqual(counters["received"], counters["classified"]["packets"], counters)
                self.assertEqual(counters["dropped"]["port_full"] + counters["dropped"]["quota"], 0, counters)
                self.assertEqual(counters["delivered"]["packets"] + counters["dropped"]["port_refused"],
                                 counters["received"], counters)
                self.assertEqual(got, counters["delivered"]["packets"])
                self.assertGreater(got, RATE)
                print("\n  vhost-user drain under a %d/s stream: %d frames delivered, %d of them by the drain in %d us"
                      % (RATE, got, drained["drained_frames"], drained["drain_us"]), flush=True)
                status, _, err = agent.vmqctl("migrate", "restore", document)
                self.assertEqual(status, 0, err)
                self.assertTrue(stat.S_ISSOCK(os.stat(path).st_mode), "the restored queue listens again")
                with Guest(lab.workdir, path, vm_mac(1)) as guest:
                    guest_connected(agent, path, guest, since=1)
                    lab.send(dst_vm=1, count=1000, rate=RATE)
                    guest.wait_received(1000)

    def test_vmqd_restarted_listens_again_and_a_guest_receives(self):
        with Lab("vu8", vms=1) as lab:
            state = os.path.join(lab.workdir, "state")
            path = os.path.join(lab.workdir, "vm1.sock")
            with Agent(lab, state_dir=state) as agent:
                status, _, err = add_vhost_queue(agent, "vm1", 1, path)
                self.assertEqual(status, 0, err)
            with Agent(lab, state_dir=state) as agent:
                queue = agent.queue("vm1")
                self.assertEqual(queue["port_kind"], "vhost-user")
                self.assertEqual(queue["state"], "running")
                with Guest(lab.workdir, path, vm_mac(1)) as guest:
                    guest_connected(agent, path, guest)
                    lab.send(dst_vm=1, count=2000, rate=RATE)
                    guest.wait_received(2000)


    # --- a guest with a kernel IP stack: reachable like a tap VM -------------

    def test_the_wire_reaches_a_kernel_guest_by_arp_through_the_leg_and_ping_through_the_queue(self):
        with Lab("vu10", vms=1) as lab:
            with Agent(lab, config=bridge_config(lab)) as agent:
                path = start_vhost_queue(self, agent, lab)
                with KernelGuest(lab, path, VHOST_VM) as guest:
                    guest_connected(agent, path, guest)
                    before = agent.queue(VHOST_QUEUE)["counters"]
                    self.assertEqual(ping_replies(lab.ping(VHOST_VM, count=10)), 10)
                    after = agent.queue(VHOST_QUEUE)["counters"]
                    self.assertEqual(wire_neighbour(lab, guest.ip), guest.mac, "the guest answered ARP with its MAC")
                    # The echo requests are unicast to the VM's MAC: its queue. The
                    # ARP request is broadcast: the bridge floods it to the leg. The
                    # ARP reply and the echo replies are the guest's transmit: the leg.
                    self.assertGreaterEqual(delta(before, after, "delivered", "packets"), 10, (before, after))
                    self.assertGreaterEqual(delta(before, after, "leg", "to_guest"), 1, (before, after))
                    self.assertGreaterEqual(delta(before, after, "leg", "from_guest"), 11, (before, after))
                    self.assertEqual(delta(before, after, "leg", "to_guest_refused"), 0, (before, after))
                    self.assertEqual(guest.ping(WIRE_IP, 10), 10, "the guest reaches the wire too")


    def test_kernel_sockets_in_a_kernel_guest_exchange_udp_and_tcp_with_the_wire(self):
        with Lab("vu11", vms=1) as lab:
            with Agent(lab, config=bridge_config(lab)) as agent:
                path = start_vhost_queue(self, agent, lab)
                with KernelGuest(lab, path, VHOST_VM) as guest:
                    guest_connected(agent, path, guest)
                    before = agent.queue(VHOST_QUEUE)["counters"]
                    receiver = App(lab, guest.role, "udp-recv", "--port", 7000, "--count", DATAGRAMS,
                                   "--seconds", 30, "--idle", 3, listening=True)
                    self.addCleanup(receiver.stop)
                    sent = App(lab, "wire", "udp-send", "--to", guest.ip, "--port", 7000, "--count", DATAGRAMS,
                               "--rate", 2000, "--seconds", 20).result()
                    self.assertEqual(sent["sent"], DATAGRAMS)
                    # A datagram with a bad checksum would never reach the socket.
                    self.assertEqual(receiver.result()["received"], DATAGRAMS)
                    after = agent.queue(VHOST_QUEUE)["counters"]
                    self.assertGreaterEqual(delta(before, after, "delivered", "packets"), DATAGRAMS, (before, after))
                    # The wire's veth left the UDP checksums to offload and this guest
                    # did not negotiate GUEST_CSUM: vmq completed every one.
                    self.assertEqual(delta(before, after, "checksum_completed"), DATAGRAMS, (before, after))

                    before = after
                    self.assert_tcp_transfer(lab, "wire", guest.role, guest.ip, 7001)
                    self.assert_tcp_transfer(lab, guest.role, "wire", WIRE_IP, 7002)
                    after = agent.queue(VHOST_QUEUE)["counters"]
                    # The guest's 4 MiB left through the leg in frames of at most 1,514 bytes.
                    self.assertGreater(delta(before, after, "leg", "from_guest"), TCP_BYTES // 1514, (before, after))

    def assert_tcp_transfer(self, lab, sender_role, receiver_role, receiver_ip, port):
        """TCP_BYTES from sender_role to a listener on receiver_ip, checked by SHA-256."""
        receiver = App(lab, receiver_role, "tcp-recv", "--listen", receiver_ip, "--port", port, "--seconds", 60,
                       listening=True)
        self.addCleanup(receiver.stop)
        sent = App(lab, sender_role, "tcp-send", "--connect", receiver_ip, "--port", port, "--bytes", TCP_BYTES,
                   "--seconds", 60).result(timeout=90)
        received = receiver.result(timeout=90)
        self.assertEqual(received["received"], TCP_BYTES, (sender_role, receiver_role, received))
        self.assertEqual(received["sha256"], sent["sha256"], (sender_role, receiver_role))

    def test_a_kernel_guest_and_a_tap_vm_ping_each_other_through_the_bridge(self):
        with Lab("vu12", vms=2) as lab:
            with Agent(lab, config=bridge_config(lab)) as agent:
                agent.add_queue("vm2", 2, cpu=0)
                path = start_vhost_queue(self, agent, lab)
                with KernelGuest(lab, path, VHOST_VM) as guest:
                    guest_connected(agent, path, guest)
                    before = agent.queue(VHOST_QUEUE)["counters"]
                    self.assertEqual(ping_replies(lab.exec("vm2", ping_command(guest.ip, 10), check=False)), 10)
                    self.assertEqual(guest.ping(vm_ip(2), 10), 10)
                    after = agent.queue(VHOST_QUEUE)["counters"]
                    # VM to VM never crosses the uplink: all of it is the leg's.
                    self.assertEqual(delta(before, after, "delivered", "packets"), 0, (before, after))
                    self.assertGreaterEqual(delta(before, after, "leg", "to_guest"), 20, (before, after))
                    self.assertGreaterEqual(delta(before, after, "leg", "from_guest"), 20, (before, after))

    def test_the_host_and_a_kernel_guest_ping_each_other_through_the_bridge(self):
        with Lab("vu13", vms=1) as lab:
            lab.exec("host1", ["ip", "addr", "add", HOST_IP + "/24", "dev", "br0"])
            with Agent(lab, config=bridge_config(lab)) as agent:
                path = start_vhost_queue(self, agent, lab)
                with KernelGuest(lab, path, VHOST_VM) as guest:
                    guest_connected(agent, path, guest)
                    before = agent.queue(VHOST_QUEUE)["counters"]
                    self.assertEqual(ping_replies(lab.exec("host1", ping_command(guest.ip, 10), check=False)), 10)
                    self.assertEqual(guest.ping(HOST_IP, 10), 10)
                    after = agent.queue(VHOST_QUEUE)["counters"]
                    self.assertEqual(delta(before, after, "delivered", "packets"), 0, (before, after))
                    self.assertGreaterEqual(delta(before, after, "leg", "to_guest"), 20, (before, after))
                    self.assertGreaterEqual(delta(before, after, "leg", "from_guest"), 20, (before, after))


if __name__ == "__main__":
    unittest.main()
