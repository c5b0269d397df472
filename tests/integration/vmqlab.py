"""The integration tests' view of the lab: namespaces (deploy/lab.sh), a real
vmqd in a host namespace, vmqctl, and bounded test traffic (vmq-testnet).

Everything a test starts is stopped and every namespace it made is removed,
also when the test fails. Binaries come from VMQ_BUILD_DIR (set by ctest).
"""
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_DIR = os.environ.get("VMQ_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
VMQD = os.path.join(BUILD_DIR, "agent", "vmqd")
VMQCTL = os.path.join(BUILD_DIR, "cli", "vmqctl")
TESTNET = os.path.join(BUILD_DIR, "tests", "tools", "vmq-testnet")
APP = os.path.join(SOURCE_DIR, "tests", "tools", "vmq_app.py")
LAB_SH = os.path.join(SOURCE_DIR, "deploy", "lab.sh")

WIRE_MAC = "52:54:00:77:00:fe"
WIRE_IP = "10.77.0.1"


def vm_mac(n):
    return "52:54:00:77:00:%02x" % n


def vm_ip(n):
    return "10.77.0.1%d" % n


def require_root(test_case_class):
    """Skips a whole TestCase unless root (namespaces, XDP and AF_XDP need it)."""
    return unittest.skipUnless(os.geteuid() == 0, "needs root: network namespaces, XDP and AF_XDP sockets")(
        test_case_class)


def run(cmd, check=True, timeout=60, **kwargs):
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError("%s failed (%d): %s%s" % (" ".join(cmd), result.returncode, result.stdout, result.stderr))
    return result


def stop_process(process, timeout=20):
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for(what, read, done, timeout=10, interval=0.1):
    """Waits for an event instead of sleeping: calls read() every interval
    seconds until done(value) holds and returns that value. Past the deadline
    it fails the test with what it waited for and the last value read."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %s s waiting for %s; last seen:\n%s" % (timeout, what, value))
        time.sleep(interval)


class Lab:
    """A lab of namespaces: NAME-wire, NAME-host1[, NAME-host2], NAME-vm1..N."""

    def __init__(self, name, hosts=1, vms=2, rxqs=1, ipv6=False, port_queues=1):
        self.name, self.hosts, self.vms, self.rxqs, self.ipv6 = name, hosts, vms, rxqs, ipv6
        self.port_queues = port_queues
        self.workdir = tempfile.mkdtemp(prefix="vmq-%s-" % name)

    def __enter__(self):
        run([LAB_SH, "down", "--name", self.name])
        run([LAB_SH, "up", "--name", self.name, "--hosts", str(self.hosts), "--vms", str(self.vms),
             "--rxqs", str(self.rxqs), "--port-queues", str(self.port_queues)] + (["--ipv6"] if self.ipv6 else []))
        return self

    def __exit__(self, *exc):
        run([LAB_SH, "down", "--name", self.name], check=False)
        subprocess.run(["rm", "-rf", self.workdir])
        return False

    def ns(self, role):
        return "%s-%s" % (self.name, role)

    def exec(self, role, cmd, **kwargs):
        return run(["ip", "netns", "exec", self.ns(role)] + cmd, **kwargs)

    def popen(self, role, cmd, **kwargs):
        return subprocess.Popen(["ip", "netns", "exec", self.ns(role)] + cmd, **kwargs)

    def move_port(self, vm, host):
        run([LAB_SH, "move-port", "--name", self.name, vm, host])

    def xdp_program_id(self, host="host1", ifname="uplink0"):
        out = self.exec(host, ["ip", "-j", "link", "show", ifname]).stdout
        xdp = json.loads(out)[0].get("xdp", {})
        return xdp.get("prog", {}).get("id", 0) if xdp else 0

    # --- traffic -----------------------------------------------------------

    def receiver(self, vm, seconds=10, idle_exit=None, expect=None, listen_udp=9, first_seq=None, last_seq=None):
        cmd = [TESTNET, "recv", "--iface", "eth0", "--seconds", str(seconds)]
        if idle_exit:
            cmd += ["--idle-exit", str(idle_exit)]
        if expect:
            cmd += ["--expect", str(expect)]
        if listen_udp:
            cmd += ["--listen-udp", str(listen_udp)]
        if first_seq is not None:
            cmd += ["--first-seq", str(first_seq)]
        if last_seq is not None:
            cmd += ["--last-seq", str(last_seq)]
        return Receiver(self.popen(vm, cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))

    def send(self, dst_vm=None, dst_mac=None, dst_ip=None, count=1000, rate=10000, vlans=(), flow=0, flows=1,
             start_seq=0, size=64, max_seconds=60, background=False, pin_cpu=None, udp_checksum=None):
        mac = dst_mac or vm_mac(dst_vm)
        ip = dst_ip or (vm_ip(dst_vm) if dst_vm else "10.77.0.99")
        cmd = [TESTNET, "send", "--iface", "wire0", "--dst", mac, "--src", WIRE_MAC, "--dst-ip", ip,
               "--src-ip", WIRE_IP, "--count", str(count), "--rate", str(rate), "--flow", str(flow),
               "--flows", str(flows), "--start-seq", str(start_seq), "--size", str(size),
               "--max-seconds", str(max_seconds)]
        for v in vlans:
            cmd += ["--vlan", str(v)]
        if udp_checksum:
            cmd += ["--udp-checksum", udp_checksum]
        if pin_cpu is not None:
            cmd = ["taskset", "-c", str(pin_cpu)] + cmd
        if background:
            return Sender(self.popen("wire", cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        return json.loads(self.exec("wire", cmd, timeout=max_seconds + 30).stdout)

    def ping(self, vm, count=5, host_ip=None):
        return self.exec("wire", ["ping", "-c", str(count), "-i", "0.05", "-W", "1", "-q", host_ip or vm_ip(vm)],
                         check=False)


class App:
    """vmq-app running in a namespace; result() waits for its JSON report."""

    def __init__(self, lab, role, *args, listening=False):
        self.process = lab.popen(role, ["/usr/bin/python3", APP] + [str(a) for a in args], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        if listening:
            line = self.process.stderr.readline()
            if line.strip() != "ready":
                self.process.kill()
                raise AssertionError("vmq-app %s did not start: %s%s" % (args[0], line, self.process.stderr.read()))

    def result(self, timeout=120):
        try:
            out, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
            raise AssertionError("vmq-app did not finish within %ss: %s" % (timeout, err))
        if self.process.returncode != 0:
            raise AssertionError("vmq-app failed (%d): %s" % (self.process.returncode, err))
        return json.loads(out)

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


class Sender:
    """A vmq-testnet send running in the background; wait() returns its report."""

    def __init__(self, process):
        self.process = process

    def wait(self, timeout=60):
        out, err = self.process.communicate(timeout=timeout)
        if self.process.returncode != 0:
            raise AssertionError("sender failed: %s" % err)
        return json.loads(out)


class Receiver:
    """A vmq-testnet recv running in a VM; result() waits for its report."""

    def __init__(self, process):
        self.process = process
        line = process.stderr.readline()
        if line.strip() != "ready":
            process.kill()
            raise AssertionError("receiver did not start: %s%s" % (line, process.stderr.read()))

    def result(self, timeout=60):
        out, err = self.process.communicate(timeout=timeout)
        if self.process.returncode != 0:
            raise AssertionError("receiver failed: %s" % err)
        return json.loads(out)

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class Agent:
    """A vmqd in a host namespace, watched through its own NOTIFY_SOCKET."""

    def __init__(self, lab, host="host1", uplinks=("uplink0",), extra_args=(), config=None, state_dir=None):
        self.lab, self.host = lab, host
        self.dir = os.path.join(lab.workdir, host)
        os.makedirs(self.dir, exist_ok=True)
        self.socket_path = os.path.join(self.dir, "vmqd.sock")
        self.state_dir = state_dir or os.path.join(self.dir, "state")
        self.config = config or "/dev/null"
        self.args = ["--config", self.config, "--socket", self.socket_path, "--state-dir", self.state_dir,
                     "--socket-group", ""] + [a for u in uplinks for a in ("--uplink", u)] + list(extra_args)
        self.process = None
        self.notifications = []
        self.log_path = os.path.join(self.dir, "vmqd.log")

    def start(self, wait_ready=True, env=None):
        notify_path = os.path.join(self.dir, "notify.sock")
        if os.path.exists(notify_path):
            os.unlink(notify_path)
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(notify_path)
        environment = dict(os.environ, NOTIFY_SOCKET=notify_path, **(env or {}))
        self.log = open(self.log_path, "a")
        self.process = self.lab.popen(self.host, [VMQD] + self.args, stdout=self.log, stderr=self.log,
                                      env=environment)
        if wait_ready:
            self.wait_notification("READY=1", timeout=20)
        return self

    def wait_notification(self, text, timeout=10, since=0):
        """Waits for a notification containing text, from the since-th one on;
        returns its index."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i in range(since, len(self.notifications)):
                if text in self.notifications[i]:
                    return i
            if self.process.poll() is not None and not self._read_notifications(0.05):
                self._close()
                raise AssertionError("vmqd exited (%d) before %s:\n%s" % (self.process.returncode, text,
                                                                         self.log_text()))
            self._read_notifications(0.1)
        raise AssertionError("vmqd did not send %s within %ss:\n%s" % (text, timeout, self.log_text()))

    def reload(self, timeout=10):
        """Sends vmqd SIGHUP and waits until the reload is over, done or refused:
        RELOADING=1, then READY=1 again (sd_notify's reload protocol)."""
        seen = len(self.notifications)
        self.process.send_signal(signal.SIGHUP)
        reloading = self.wait_notification("RELOADING=1", timeout, since=seen)
        self.wait_notification("READY=1", timeout, since=reloading + 1)

    def _read_notifications(self, timeout):
        self.notify.settimeout(timeout)
        try:
            self.notifications.append(self.notify.recv(4096).decode())
            return True
        except socket.timeout:
            return False

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Stops vmqd and returns its exit status."""
        if not self.process or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("vmqd did not stop within %ss after %s" % (timeout, sig))
        self._read_notifications(0.2)
        self._close()
        return self.process.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._close()
        return False

    def _close(self):
        for resource in (getattr(self, "notify", None), getattr(self, "log", None)):
            if resource:
                resource.close()

    # --- vmqctl --------------------------------------------------------------

    def vmqctl(self, *args, check=False):
        """Runs vmqctl in the agent's namespace: (exit status, stdout, stderr)."""
        result = self.lab.exec(self.host, [VMQCTL, "--socket", self.socket_path] + list(args), check=False)
        if check and result.returncode != 0:
            raise AssertionError("vmqctl %s failed (%d): %s%s" % (" ".join(args), result.returncode, result.stdout,
                                                                 result.stderr))
        return result.returncode, result.stdout, result.stderr

    def json(self, *args):
        """vmqctl --json ARGS; fails the test unless it succeeds."""
        status, out, err = self.vmqctl("--json", *args)
        if status != 0:
            raise AssertionError("vmqctl --json %s failed (%d): %s%s" % (" ".join(args), status, out, err))
        return json.loads(out)

    def add_queue(self, name, vm, port=None, vlan=None, mode=None, cpu=None, frames=None, uplink="uplink0"):
        args = ["queue", "add", name, "--uplink", uplink, "--port", port or "vm%dport" % vm, "--mac", vm_mac(vm),
                "--vm", "vm%d" % vm]
        args += ["--vlan", str(vlan)] if vlan is not None else ["--untagged"]
        if mode:
            args += ["--vlan-mode", mode]
        if cpu is not None:
            args += ["--cpu", str(cpu)]
        if frames is not None:
            args += ["--frames", str(frames)]
        return self.json(*args)

    def queue(self, name):
        return self.json("queue", "show", name)

    def stats(self):
        return self.json("stats")

    def default_queue(self, uplink="uplink0"):
        for u in self.stats()["uplinks"]:
            if u["name"] == uplink:
                return u["default_queue"]
        raise AssertionError("no uplink %s" % uplink)

    def umem(self, uplink="uplink0"):
        for u in self.stats()["uplinks"]:
            if u["name"] == uplink:
                return u["umem"]
        raise AssertionError("no uplink %s" % uplink)

    def wait_quiet(self, names, timeout=10):
        """Waits until the named queues hold no frame in flight and their
        counters stopped moving."""
        deadline = time.monotonic() + timeout
        previous = None
        while time.monotonic() < deadline:
            counters = [self.queue(n)["counters"] for n in names]
            if counters == previous and all(c["in_flight"] == 0 for c in counters):
                return
            previous = counters
            time.sleep(0.3)
        raise AssertionError("queues %s did not go quiet: %s" % (names, previous))


def thread_cpus(pid, tid):
    """The CPUs a thread may run on, as the kernel reports them."""
    with open("/proc/%d/task/%d/status" % (pid, tid)) as f:
        for line in f:
            if line.startswith("Cpus_allowed_list:"):
                return line.split(":", 1)[1].strip()
    raise AssertionError("no Cpus_allowed_list for thread %d" % tid)


def thread_last_cpu(pid, tid):
    """The CPU the thread last ran on (field 39 of /proc/PID/task/TID/stat)."""
    with open("/proc/%d/task/%d/stat" % (pid, tid)) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[36])
