"""vmq's libvirt hook (cli/libvirt_hook, docs/libvirt.md).

HookWithRecordedXml runs the hook as libvirt would (arguments, the domain XML
on stdin: recorded documents in tests/integration/libvirt/) against a real
vmqd in the lab: started, reconnect, stopped and release, attach, a stale
queue, a live migration's sequence on both hosts, malformed XML and strict
mode, a vmqd that does not answer.

RealLibvirtd starts Debian's libvirtd itself (systemd is not PID 1 here) in
the lab's host namespace and its own mount namespace, with private run, state,
log and configuration directories and the hook directory bind-mounted, and
boots a QEMU TCG domain (the test guest image, tests/guest/) with an
<interface type='bridge'> on the lab's bridge: virsh start gives the interface
its queue, traffic from the wire reaches the guest's socket through it, a
libvirtd restart (reconnect) keeps it, virsh destroy removes it."""
import os
import queue as queue_module
import re
import shutil
import signal
import socket
import tempfile
import threading
import time
import unittest

from vmqlab import BUILD_DIR, SOURCE_DIR, Agent, Lab, require_root, run, stop_process, vm_ip, vm_mac, wait_for

HOOK = os.path.join(BUILD_DIR, "cli", "vmq-libvirt-hook")
RECORDED = os.path.join(SOURCE_DIR, "tests", "integration", "libvirt")
RATE = 10000  # frames per second from the wire


def report(text):
    print("\n  " + text, flush=True)


def recorded(name):
    with open(os.path.join(RECORDED, name)) as f:
        return f.read()


def queue_name(domain, n):
    """The hook's name for the queue of the lab's VM n's interface in this domain."""
    return "%s.%s" % (domain, vm_mac(n).replace(":", ""))


class Hook:
    """The hook program for one vmqd, run in that vmqd's namespace as libvirt runs it."""

    def __init__(self, agent, strict=False, timeout_seconds=10, socket_path=None):
        self.agent = agent
        descriptor, self.config = tempfile.mkstemp(prefix="libvirt-hook-", suffix=".toml", dir=agent.dir)
        os.close(descriptor)
        with open(self.config, "w") as f:
            f.write('socket = "%s"\ntimeout_seconds = %s\nstrict = %s\n[bridges]\nbr0 = "uplink0"\n'
                    % (socket_path or agent.socket_path, timeout_seconds, "true" if strict else "false"))

    def __call__(self, domain, operation, sub_operation, xml, extra="-"):
        """(exit status, stdout, stderr, seconds)"""
        started = time.monotonic()
        result = self.agent.lab.exec(self.agent.host, [HOOK, "--config", self.config, domain, operation,
                                                       sub_operation, extra], input=xml, check=False, timeout=60)
        return result.returncode, result.stdout, result.stderr, time.monotonic() - started


def queue_names(agent):
    return sorted(q["name"] for q in agent.json("queue", "list")["queues"])


@require_root
class HookWithRecordedXml(unittest.TestCase):
    def setUp(self):
        if not os.path.exists(HOOK):
            self.fail("%s is missing: build the vmq-libvirt-hook target" % HOOK)

    def assert_ran(self, outcome, status=0):
        code, out, err, _ = outcome
        self.assertEqual(code, status, err)
        self.assertEqual(out, "", "the hook printed on stdout, which libvirt would take for changed XML")
        return err

    def test_started_reconnect_attach_stopped_release(self):
        with Lab("lv1", vms=2) as lab, Agent(lab) as agent:
            hook = Hook(agent)
            vm1 = recorded("vm1-running.xml")
            err = self.assert_ran(hook("vm1", "started", "begin", vm1))
            self.assertIn("vhost-user interfaces are not handled yet", err)
            self.assertIn("bridge virbr0 has no uplink", err)
            name = queue_name("vm1", 1)
            self.assertEqual(queue_names(agent), [name], "only the interface on br0 gets a queue")
            q = agent.queue(name)
            self.assertEqual((q["vm"], q["uplink"], q["port"], q["state"], q["vlan_mode"]),
                             ("vm1", "uplink0", "vm1port", "running", "access"))
            self.assertEqual([(f["mac"], f["vlan"]) for f in q["filters"]], [(vm_mac(1), None)])

            # The queue carries the VM's frames.
            receiver = lab.receiver("vm1", seconds=20, idle_exit=1, expect=2000)
            lab.send(dst_vm=1, count=2000, rate=5000, flow=1)
            self.assertEqual(receiver.result()["flows"]["1"]["unique"], 2000)
            agent.wait_quiet([name])
            self.assertEqual(agent.queue(name)["counters"]["delivered"]["packets"], 2000)

            # reconnect (a libvirtd restart) and a repeated started keep the very same queue.
            for operation in ("reconnect", "started"):
                err = self.assert_ran(hook("vm1", operation, "begin", vm1))
                self.assertIn("is already there", err)
                self.assertEqual(agent.queue(name)["id"], q["id"], operation)
            self.assertEqual(queue_names(agent), [name])

            # VLAN 100 on br0: an access queue; the trunk is on ovsbr0, which is not mapped.
            self.assert_ran(hook("vm2", "started", "begin", recorded("vm2-vlans.xml")))
            q2 = agent.queue(queue_name("vm2", 2))
            self.assertEqual((q2["port"], q2["vlan_mode"], [(f["mac"], f["vlan"]) for f in q2["filters"]]),
                             ("vm2port", "access", [(vm_mac(2), 100)]))

            # stopped drains and removes; release finds nothing left.
            err = self.assert_ran(hook("vm1", "stopped", "end", vm1))
            self.assertRegex(err, r"queue %s removed: \d+ frame\(s\) delivered while it drained.*"
                             r"classified 2000, received 2000, delivered 2000, dropped port_full 0 quota 0 "
                             r"port_refused 0" % re.escape(name))
            self.assertEqual(queue_names(agent), [queue_name("vm2", 2)])
            err = self.assert_ran(hook("vm1", "release", "end", vm1))
            self.assertIn("queue %s: none to remove" % name, err)

            # attach (libvirt taking over a running QEMU) gives the queue back.
            self.assert_ran(hook("vm1", "attach", "begin", vm1))
            self.assertEqual(agent.queue(name)["state"], "running")

            # The same domain started again with another tap: the stale queue is replaced.
            moved = vm1.replace("<target dev='vm1port'/>", "<target dev='vm2port'/>")
            self.assert_ran(hook("vm2", "stopped", "end", recorded("vm2-vlans.xml")))
            err = self.assert_ran(hook("vm1", "started", "begin", moved))
            self.assertIn("re-created (it had port vm1port, uplink uplink0)", err)
            self.assertEqual(agent.queue(name)["port"], "vm2port")
            for operation in ("stopped", "release"):
                self.assert_ran(hook("vm1", operation, "end", moved))
            self.assertEqual(queue_names(agent), [])
            # Nothing is lost inside vmq: every UMEM frame is back.
            umem = agent.umem()
            self.assertEqual(umem["frames_lost"], 0)
            self.assertEqual(umem["fill_ring_entries"], umem["frames_total"])

    def test_metadata_opt_in_opt_out_and_operations_that_change_nothing(self):
        with Lab("lv2", vms=4) as lab, Agent(lab) as agent:
            hook = Hook(agent)
            # vm3: a tap without a bridge, given its uplink and size by the domain's metadata.
            self.assert_ran(hook("vm3", "started", "begin", recorded("vm3-metadata.xml")))
            q3 = agent.queue(queue_name("vm3", 3))
            self.assertEqual((q3["port"], q3["uplink"], q3["frames"]), ("vm3port", "uplink0", 1024))
            self.assertEqual(queue_names(agent), [queue_name("vm3", 3)])
            # vm4 opts out: nothing.
            err = self.assert_ran(hook("vm4", "started", "begin", recorded("vm4-opt-out.xml")))
            self.assertIn("enabled='no'", err)
            # prepare, start, migrate, restore: no tap yet (or the source's): nothing is asked of vmqd.
            for operation in ("prepare", "start", "migrate", "restore"):
                self.assert_ran(hook("vm1", operation, "begin", recorded("vm1-migrate-begin.xml")))
            self.assertEqual(queue_names(agent), [queue_name("vm3", 3)])
            self.assert_ran(hook("vm3", "release", "end", recorded("vm3-metadata.xml")))
            self.assertEqual(queue_names(agent), [])

    def test_migration_source_drains_destination_creates_at_started(self):
        frames = 3 * RATE
        with Lab("lv3", hosts=2, vms=1) as lab, Agent(lab, "host1") as a, Agent(lab, "host2") as b:
            source, destination = Hook(a), Hook(b)
            vm1 = recorded("vm1-running.xml")
            name = queue_name("vm1", 1)
            self.assert_ran(source("vm1", "started", "begin", vm1))
            receiver = lab.receiver("vm1", seconds=30, idle_exit=2, first_seq=0, last_seq=frames - 1)
            sender = lab.send(dst_vm=1, count=frames, rate=RATE, flow=1, background=True)
            wait_for("half a second of the stream through vm1's queue on the source",
                     lambda: a.queue(name)["counters"]["classified"]["packets"],
                     lambda classified: classified >= RATE // 2, timeout=30, interval=0.25)
            self.assertIsNone(sender.process.poll(), "the stream ended before the source's stop")
            # The source's domain stops once the guest runs on the destination: stopped, then release.
            err = self.assert_ran(source("vm1", "stopped", "end", vm1))
            self.assert_ran(source("vm1", "release", "end", vm1))
            self.assertEqual(queue_names(a), [])
            final = re.search(r"removed: (?P<drained>\d+) frame\(s\) delivered while it drained, in (?P<us>\d+) us; "
                              r"in all: classified (?P<classified>\d+), received (?P<received>\d+), delivered "
                              r"(?P<delivered>\d+), dropped port_full (?P<port_full>\d+) quota (?P<quota>\d+) "
                              r"port_refused (?P<port_refused>\d+), dropped by the kernel rx_dropped "
                              r"(?P<rx_dropped>\d+) rx_ring_full (?P<rx_ring_full>\d+)", err)
            self.assertIsNotNone(final, err)
            n = {k: int(v) for k, v in final.groupdict().items()}
            # Nothing lost inside vmq: every frame the queue accepted was delivered or
            # counted as dropped, with its reason; every UMEM frame is back.
            self.assertGreaterEqual(n["classified"], RATE // 2)
            self.assertEqual(n["classified"], n["received"] + n["rx_dropped"] + n["rx_ring_full"], n)
            self.assertEqual(n["received"], n["delivered"] + n["port_full"] + n["quota"] + n["port_refused"], n)
            wait_for("every UMEM frame back on the source", a.umem,
                     lambda u: u["frames_lost"] == 0 and u["fill_ring_entries"] == u["frames_total"])
            sender.wait(timeout=30)
            flow = receiver.result()["flows"]["1"]
            # The port is still on the source: after the stop the bridge delivers the rest.
            self.assertEqual(flow["last_seq"], frames - 1, "vm1 stopped receiving after the source's stop")
            dropped_in_vmq = n["classified"] - n["delivered"]
            self.assertLessEqual(flow["gaps"]["missing"], dropped_in_vmq + frames // 100,
                                 "frames lost beyond what vmq counted: %s, %s" % (flow["gaps"], n))

            # Destination: migrate (the source's XML, with the source's tap name), prepare,
            # start: the tap is not there yet, nothing is made. started: the queue.
            lab.move_port("vm1", "host2")
            for operation in ("migrate", "prepare", "start"):
                self.assert_ran(destination("vm1", operation, "begin", recorded("vm1-migrate-begin.xml")))
                self.assertEqual(queue_names(b), [], operation)
            self.assert_ran(destination("vm1", "started", "begin", vm1))
            q = b.queue(name)
            self.assertEqual((q["port"], q["state"]), ("vm1port", "running"))
            receiver = lab.receiver("vm1", seconds=20, idle_exit=1, expect=2000)
            lab.send(dst_vm=1, count=2000, rate=5000, flow=2)
            self.assertEqual(receiver.result()["flows"]["2"]["unique"], 2000)
            self.assertGreaterEqual(b.queue(name)["counters"]["delivered"]["packets"], 2000)
            report("migration through the hook: the source's queue classified %d, delivered %d, dropped %d "
                   "(counted by reason), drained %d frame(s) in %d us; vm1 missed %d of %d; the destination's "
                   "queue made at started" % (n["classified"], n["delivered"], dropped_in_vmq, n["drained"], n["us"],
                                              flow["gaps"]["missing"], frames))

    def test_malformed_xml_strict_mode_and_an_agent_that_does_not_answer(self):
        with Lab("lv4", vms=2) as lab, Agent(lab) as agent:
            lenient, strict = Hook(agent), Hook(agent, strict=True, timeout_seconds=1)
            malformed = recorded("malformed.xml")
            for hook, status in ((lenient, 0), (strict, 1)):
                err = self.assert_ran(hook("vm1", "started", "begin", malformed), status)
                self.assertIn("the domain XML on stdin is not valid XML: line 38", err)
                self.assertIn("nothing done", err)
                self.assertEqual(queue_names(agent), [])
            # Strict never fails a reconnect: libvirt would kill the running domain.
            self.assert_ran(strict("vm1", "reconnect", "begin", malformed), 0)
            # Another domain's XML is refused too.
            err = self.assert_ran(strict("vm2", "started", "begin", recorded("vm1-running.xml")), 1)
            self.assertIn("is for domain 'vm1', not 'vm2'", err)

            # vm1's MAC taken by an operator's queue: strict refuses the start, nothing is made.
            agent.add_queue("operators", 1, port="vm2port")
            err = self.assert_ran(strict("vm1", "started", "begin", recorded("vm1-running.xml")), 1)
            self.assertIn("MAC %s untagged is already used by queue operators" % vm_mac(1), err)
            self.assertEqual(queue_names(agent), ["operators"])
            self.assert_ran(lenient("vm1", "started", "begin", recorded("vm1-running.xml")), 0)
            agent.json("queue", "del", "operators")

            # vmqd gone: strict fails at once, lenient logs and lets the domain start.
            nowhere = Hook(agent, strict=True, socket_path=os.path.join(lab.workdir, "none.sock"))
            code, _, err, seconds = nowhere("vm1", "started", "begin", recorded("vm1-running.xml"))
            self.assertEqual(code, 1, err)
            self.assertIn("vmqd is unreachable", err)
            self.assertLess(seconds, 5)

            # vmqd alive but not answering: the hook waits at most its timeout, once.
            agent.process.send_signal(signal.SIGSTOP)
            try:
                code, _, err, seconds = strict("vm2", "started", "begin", recorded("vm2-vlans.xml"))
            finally:
                agent.process.send_signal(signal.SIGCONT)
            self.assertEqual(code, 1, err)
            self.assertIn("no reply from the agent within 1 s", err)
            self.assertLess(seconds, 5, "the hook waited %.1f s for a stopped vmqd" % seconds)
            report("hook against a stopped vmqd (timeout 1 s): gave up after %.2f s" % seconds)
            self.assertEqual(queue_names(agent), [])


# --- a real libvirtd -----------------------------------------------------------

GUEST_VM = 5
UDP_PORT, TCP_PORT = 9000, 9001
UDP_COUNT, UDP_RATE = 2000, 1000
BOOT_SECONDS = 120
DOMAIN = "vmqguest"

QEMU_CONF = """# The test's libvirtd: QEMU as root, no relabelling, no cgroups, no virtlogd.
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
"""

DOMAIN_XML = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{image}/kernel</kernel>
    <initrd>{image}/initramfs.gz</initrd>
    <cmdline>console=ttyS0 panic=-1 loglevel=4 vmq.mac={mac} vmq.ip={ip}/24 vmq.udp={udp} vmq.tcp={tcp}</cmdline>
  </os>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <interface type='bridge'>
      <mac address='{mac}'/>
      <source bridge='br0'/>
      <model type='virtio'/>
      <driver name='qemu'/>
      <rom enabled='no'/>
    </interface>
    <serial type='unix'>
      <source mode='bind' path='{console}'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>
"""


class Libvirtd:
    """Debian's libvirtd in the lab's host namespace and a mount namespace of
    its own: libvirt's run, state, cache and log directories, its qemu.conf,
    its domain configuration and its hook directory are the test's
    (bind-mounted), so nothing of the machine's libvirt is used or changed."""

    MOUNTS = (("run", "/run/libvirt"), ("lib", "/var/lib/libvirt"), ("cache", "/var/cache/libvirt"),
              ("log", "/var/log/libvirt"), ("etc-qemu", "/etc/libvirt/qemu"), ("hooks", "/etc/libvirt/hooks"),
              ("qemu.conf", "/etc/libvirt/qemu.conf"))

    def __init__(self, lab, agent):
        self.lab = lab
        self.dir = tempfile.mkdtemp(prefix="vmq-libvirtd-")
        for name, _ in self.MOUNTS:
            if name != "qemu.conf":
                os.makedirs(os.path.join(self.dir, name))
        with open(os.path.join(self.dir, "qemu.conf"), "w") as f:
            f.write(QEMU_CONF)
        with open(os.path.join(self.dir, "libvirtd.conf"), "w") as f:
            f.write('log_outputs = "3:file:/var/log/libvirt/libvirtd.log"\n')
        self.hook_config = os.path.join(self.dir, "libvirt-hook.toml")
        self.write_hook_config(strict=False, socket_path=agent.socket_path)
        self.calls = os.path.join(self.dir, "hook-calls.log")
        hook_dir = os.path.join(self.dir, "hooks", "qemu.d")
        os.makedirs(hook_dir)
        # libvirt runs qemu.d/vmq with a clean environment: the wrapper records the
        # call and gives the hook the test's configuration.
        wrapper = os.path.join(hook_dir, "vmq")
        with open(wrapper, "w") as f:
            f.write('#!/bin/sh\necho "$*" >> %s\nexec %s --config %s "$@"\n' % (self.calls, HOOK, self.hook_config))
        os.chmod(wrapper, 0o755)
        self.uri = "qemu:///system?socket=%s" % os.path.join(self.dir, "run", "libvirt-sock")
        self.process = None

    def write_hook_config(self, strict, socket_path):
        """The hook reads its configuration at every call: no libvirtd restart."""
        with open(self.hook_config, "w") as f:
            f.write('socket = "%s"\ntimeout_seconds = 5\nstrict = %s\n[bridges]\nbr0 = "uplink0"\n'
                    % (socket_path, "true" if strict else "false"))

    def start(self):
        # A fresh /run in the mount namespace, so that /run/libvirt need not exist on the machine.
        script = ["set -e", "mount -t tmpfs -o mode=0755 vmq-test-run /run", "mkdir -p /run/libvirt"]
        script += ["mount --bind %s %s" % (os.path.join(self.dir, name), target) for name, target in self.MOUNTS]
        script += ["exec libvirtd -f %s" % os.path.join(self.dir, "libvirtd.conf")]
        self.log = open(os.path.join(self.dir, "libvirtd.out"), "a")
        from test_guest import die_with_parent  # libvirtd goes if the test is killed
        self.process = self.lab.popen("host1", ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                                                "\n".join(script)], stdout=self.log, stderr=self.log,
                                      preexec_fn=die_with_parent)
        wait_for("libvirtd to answer", lambda: self.virsh("version", check=False).returncode == 0,
                 lambda ok: ok, timeout=30, interval=0.2)

    def stop(self):
        if self.process:
            stop_process(self.process)
            self.log.close()
        self.process = None

    def virsh(self, *args, check=True):
        return run(["virsh", "-c", self.uri] + list(args), check=check, timeout=60)

    def hook_calls(self):
        if not os.path.exists(self.calls):
            return []
        with open(self.calls) as f:
            return [line.strip() for line in f]

    def log_tail(self):
        texts = []
        for path in (os.path.join(self.dir, "libvirtd.out"), os.path.join(self.dir, "log", "libvirtd.log"),
                     os.path.join(self.dir, "log", "qemu", DOMAIN + ".log")):
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    texts.append("%s:\n%s" % (path, f.read()[-2000:]))
        return "\n".join(texts)

    def kill_leftover_qemu(self):
        """A QEMU whose libvirtd is gone keeps running: its pid file says which."""
        pid_file = os.path.join(self.dir, "run", "qemu", DOMAIN + ".pid")
        if os.path.exists(pid_file):
            with open(pid_file) as f:
                text = f.read().strip()
            if text.isdigit() and os.path.exists("/proc/%s" % text):
                with open("/proc/%s/comm" % text) as f:
                    if f.read().startswith("qemu"):
                        os.kill(int(text), signal.SIGKILL)

    def cleanup(self):
        self.stop()
        self.kill_leftover_qemu()
        shutil.rmtree(self.dir, ignore_errors=True)


class Console:
    """The guest's serial console: a Unix socket QEMU listens on. guest-agent
    (tests/guest/guest-agent.c) answers "@vmq ..." lines there."""

    LINE = re.compile(r"@vmq (\S+)(.*)")

    def __init__(self, path):
        self.lines = queue_module.Queue()
        self.text = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        wait_for("the guest's console socket", lambda: self._connect(path), lambda ok: ok, timeout=20, interval=0.05)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _connect(self, path):
        try:
            self.sock.connect(path)
            return True
        except OSError:
            return False

    def _read(self):
        buffer = b""
        while True:
            try:
                chunk = self.sock.recv(4096)
            except OSError:
                break
            if not chunk:
                break
            buffer += chunk
            while b"\n" in buffer:
                raw, buffer = buffer.split(b"\n", 1)
                line = raw.decode(errors="replace").replace("\r", "")
                self.text.append(line)
                match = self.LINE.search(line)
                if match:
                    self.lines.put((match.group(1), dict(re.findall(r"(\w+)=(\S+)", match.group(2)))))
        self.lines.put(None)

    def wait_for_agent(self, timeout):
        """Until guest-agent answers: its "ready" line is lost if it came before
        the test connected (QEMU drops console output nobody reads), so ask."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                item = self.lines.get(timeout=2)
            except queue_module.Empty:
                self.sock.sendall(b"udp-count\n")
                continue
            if item is None:
                break
            if item[0] in ("ready", "udp"):
                return
        raise AssertionError("guest-agent did not answer within %ss; console:\n%s"
                             % (timeout, "\n".join(self.text[-30:])))

    def expect(self, word, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                item = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue_module.Empty:
                raise AssertionError("no '@vmq %s' from the guest within %ss; console:\n%s"
                                     % (word, timeout, "\n".join(self.text[-30:]))) from None
            if item is None:
                raise AssertionError("the console closed before '@vmq %s':\n%s" % (word, "\n".join(self.text[-30:])))
            if item[0] == word:
                return item[1]

    def command(self, text, reply, timeout=15):
        self.sock.sendall(text.encode() + b"\n")
        return self.expect(reply, timeout)

    def close(self):
        self.sock.close()


@require_root
class RealLibvirtd(unittest.TestCase):
    def test_virsh_start_reconnect_destroy(self):
        for tool in ("libvirtd", "virsh", "qemu-system-x86_64"):
            if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
                self.fail("%s is missing: deploy/install-deps.sh installs libvirt-daemon-system, libvirt-clients "
                          "and qemu-system-x86" % tool)
        from test_guest import build_image  # the guest image, built once and cached
        image = build_image()
        with Lab("lvd", vms=1) as lab, Agent(lab) as agent:
            libvirtd = Libvirtd(lab, agent)
            console = None
            try:
                libvirtd.start()
                console_path = os.path.join(libvirtd.dir, "console.sock")
                xml_path = os.path.join(libvirtd.dir, DOMAIN + ".xml")
                with open(xml_path, "w") as f:
                    f.write(DOMAIN_XML.format(name=DOMAIN, image=image, mac=vm_mac(GUEST_VM), ip=vm_ip(GUEST_VM),
                                              udp=UDP_PORT, tcp=TCP_PORT, console=console_path))
                libvirtd.virsh("define", xml_path)
                boot = time.monotonic()
                libvirtd.virsh("start", DOMAIN)
                console = Console(console_path)
                self.assertEqual(libvirtd.hook_calls(), ["%s %s" % (DOMAIN, op) for op in (
                    "prepare begin -", "start begin -", "started begin -")])
                tap = self.tap_of(libvirtd)
                name = queue_name(DOMAIN, GUEST_VM)
                q = agent.queue(name)
                self.assertEqual((q["port"], q["uplink"], q["vm"], q["state"]), (tap, "uplink0", DOMAIN, "running"))
                self.assertEqual([(f["mac"], f["vlan"]) for f in q["filters"]], [(vm_mac(GUEST_VM), None)])
                # Unicast reaches the guest only through vmq: the bridge neither learns the
                # guest's MAC on its tap nor floods unknown unicast to it.
                run(["bridge", "-n", lab.ns("host1"), "link", "set", "dev", tap, "learning", "off", "flood", "off"])
                run(["ip", "-n", lab.ns("host1"), "link", "set", tap, "type", "bridge_slave", "fdb_flush"])
                console.wait_for_agent(BOOT_SECONDS)
                report("libvirt domain %s up in %.1f s on tap %s, queue %s (id %d)"
                       % (DOMAIN, time.monotonic() - boot, tap, name, q["id"]))

                counted, delivered = self.udp_through_queue(lab, agent, console, name)
                self.assertEqual((counted["count"], counted["unique"]), (UDP_COUNT, UDP_COUNT), counted)
                self.assertGreaterEqual(delivered, UDP_COUNT)
                report("UDP: %d datagrams from the wire, the guest's socket counted %s; the queue delivered %d "
                       "frames" % (UDP_COUNT, counted, delivered))

                # libvirtd restarts: reconnect keeps the queue (the same one).
                libvirtd.stop()
                libvirtd.start()
                wait_for("the reconnect hook", libvirtd.hook_calls,
                         lambda calls: "%s reconnect begin -" % DOMAIN in calls, timeout=30)
                self.assertEqual(agent.queue(name)["id"], q["id"])
                self.assertEqual(libvirtd.virsh("domstate", DOMAIN).stdout.strip(), "running")
                counted, delivered = self.udp_through_queue(lab, agent, console, name)
                self.assertEqual(counted["unique"], UDP_COUNT, counted)

                # virsh destroy: stopped and release remove the queue.
                libvirtd.virsh("destroy", DOMAIN)
                self.assertEqual(libvirtd.hook_calls()[-2:], ["%s stopped end -" % DOMAIN,
                                                              "%s release end -" % DOMAIN])
                self.assertEqual(queue_names(agent), [])
                umem = agent.umem()
                self.assertEqual(umem["frames_lost"], 0)

                # Strict mode and no vmqd: libvirt refuses the start with the hook's message,
                # and stops the domain (stopped, release).
                libvirtd.write_hook_config(strict=True, socket_path=os.path.join(libvirtd.dir, "no-vmqd.sock"))
                refused = libvirtd.virsh("start", DOMAIN, check=False)
                self.assertNotEqual(refused.returncode, 0, refused.stdout)
                self.assertIn("vmqd is unreachable", refused.stderr)
                self.assertEqual(libvirtd.virsh("domstate", DOMAIN).stdout.strip(), "shut off")
                self.assertEqual(libvirtd.hook_calls()[-5:], ["%s %s" % (DOMAIN, op) for op in (
                    "prepare begin -", "start begin -", "started begin -", "stopped end -", "release end -")])
                self.assertEqual(queue_names(agent), [])
                report("hook calls seen: %s" % ", ".join(c.split(" ", 1)[1] for c in libvirtd.hook_calls()))
                report("strict mode, vmqd absent: virsh start refused: %s"
                       % refused.stderr.strip().splitlines()[-1][-160:])
            except BaseException:
                report("libvirtd logs:\n%s" % libvirtd.log_tail())
                raise
            finally:
                if console:
                    console.close()
                libvirtd.virsh("destroy", DOMAIN, check=False)
                libvirtd.virsh("undefine", DOMAIN, check=False)
                libvirtd.cleanup()

    def tap_of(self, libvirtd):
        xml = libvirtd.virsh("dumpxml", DOMAIN).stdout
        match = re.search(r"<target dev='([^']+)'/>", xml)
        self.assertIsNotNone(match, xml)
        return match.group(1)

    def udp_through_queue(self, lab, agent, console, name):
        """A UDP stream from the wire; the guest's socket count and the queue's delivered frames."""
        from test_guest import wire  # (not at the top: unittest would run test_guest's tests here too)
        before = agent.queue(name)["counters"]["delivered"]["packets"]
        self.assertEqual(console.command("udp-reset", "udp-reset"), {})
        self.assertIn(" 0% packet loss", lab.ping(GUEST_VM, count=3).stdout)
        sent = wire(lab, "udp", "--dst", vm_ip(GUEST_VM), "--port", UDP_PORT, "--count", UDP_COUNT,
                    "--rate", UDP_RATE, "--max-seconds", 20)
        self.assertEqual(sent.get("sent"), UDP_COUNT, sent)
        counted = wait_for("the guest's count to settle",
                           lambda: {k: int(v) for k, v in console.command("udp-count", "udp").items()},
                           lambda c: c["count"] >= UDP_COUNT, timeout=15, interval=1)
        agent.wait_quiet([name])
        return counted, agent.queue(name)["counters"]["delivered"]["packets"] - before


if __name__ == "__main__":
    unittest.main()
