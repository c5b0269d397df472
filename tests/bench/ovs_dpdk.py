"""Open vSwitch with DPDK as the benchmark's peer path: the same job as vmq
(frames from the uplink to each VM's vhost-user port, chosen by destination
MAC), done by a userspace switch that polls with a DPDK PMD thread.

OvsDpdk sets up, inside a network namespace (so DPDK's AF_XDP PMD sees the
uplink), a private Open vSwitch of its own:
  - ovsdb-server and ovs-vswitchd-dpdk (Debian's openvswitch-switch-dpdk) in
    the foreground, with their db, unix sockets and logs under WORKDIR/ovs-dpdk
    (one instance per workdir), never the system's /run/openvswitch or
    /etc/openvswitch;
  - DPDK without hugepages: dpdk-extra "--no-huge --legacy-mem -m 2048
    --no-pci --file-prefix P". OVS 3.1 adds --in-memory unless --in-memory or
    --legacy-mem is given, and --no-huge (legacy memory) refuses --in-memory,
    so --legacy-mem must be explicit. 1024 MB was too little for OVS's shared
    mempool of 262,144 mbufs;
  - a netdev (userspace) bridge with the uplink as a DPDK port on DPDK's
    AF_XDP PMD (net_af_xdp, copy mode on a veth), or OVS's own afxdp netdev;
  - per VM a dpdkvhostuserclient port: OVS is the vhost-user client, the VM
    side (e.g. dpdk-testpmd with net_virtio_user,server=1) listens;
  - OpenFlow: dl_dst=MAC -> that VM's port, everything else dropped (or
    NORMAL);
  - the PMD thread on pmd_cpu (pmd-cpu-mask); every other thread of both
    daemons, the DPDK main lcore included, on lcore_cpu (the daemons start
    under taskset, and OVS gives DPDK the first CPU of its affinity as -l).

The measurements: pmd_stats() parses dpif-netdev/pmd-stats-show for the PMD
thread, pmd_thread_ids() gives its TIDs for /proc schedstat, port_stats()
reads each interface's statistics from the db (OVS refreshes them every 5 s).

Run as root. `python3 tests/bench/ovs_dpdk.py` is a smoke check on a lab of
its own (ovsb): run it under `flock /tmp/vmq-lab.lock`.
"""
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

OVS_VSWITCHD_DPDK = "/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk"
VSWITCH_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
DPDK_RUNTIME_DIR = "/var/run/dpdk"
UPLINK_PORT = "uplink"      # the DPDK uplink's name in OVS (port_stats' key)
UPLINK_OFPORT = 1
FIRST_VM_OFPORT = 2
COMMAND_TIMEOUT = 30        # seconds for any one ovs-vsctl/appctl/ofctl call

_instance_numbers = itertools.count(1)


class OvsError(RuntimeError):
    pass


def wait_until(what, condition, timeout, interval=0.1):
    """Calls condition() until it returns something true, for at most timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise OvsError("timed out after %g s waiting for %s" % (timeout, what))
        time.sleep(interval)


def end_process(process, grace=10):
    """Terminates a process we started (SIGTERM, then SIGKILL) and reaps it."""
    if process is None:
        return
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=grace)


def first_number(text):
    """'15279052131 (99.43%)' -> 15279052131; '7683294.91 (15366589812/2000)' -> 7683294.91."""
    found = re.match(r"\s*(-?\d+(?:\.\d+)?)", text)
    if not found:
        return None
    number = found.group(1)
    return float(number) if "." in number else int(number)


def parse_pmd_stats(text):
    """Parses `ovs-appctl dpif-netdev/pmd-stats-show` into a list of dicts, one
    per PMD thread ("main thread" left out): keys are the labels with '_' for
    spaces and no dots ("packets_received", "idle_cycles", "processing_cycles",
    "avg_cycles_per_packet", "avg_processing_cycles_per_packet", ...), values
    their first number; a percentage in brackets goes to KEY_percent."""
    threads, current = [], None
    for line in text.splitlines():
        header = re.match(r"pmd thread numa_id (\d+) core_id (\d+):", line)
        if header:
            current = {"numa_id": int(header.group(1)), "core_id": int(header.group(2))}
            threads.append(current)
            continue
        if not line.startswith(" "):  # "main thread:" or anything else at the margin
            current = None
            continue
        if current is None or ":" not in line:
            continue
        label, value = line.split(":", 1)
        key = re.sub(r"[^a-z0-9]+", "_", label.strip().lower()).strip("_")
        current[key] = first_number(value)
        percent = re.search(r"\((\d+(?:\.\d+)?)%\)", value)
        if percent:
            current[key + "_percent"] = float(percent.group(1))
    return threads


def parse_ovsdb_map(cell):
    """An OVSDB JSON map cell ["map", [[k, v], ...]] -> dict."""
    if not (isinstance(cell, list) and cell and cell[0] == "map"):
        return {}
    return {key: value for key, value in cell[1]}


class OvsDpdk:
    """A private Open vSwitch with DPDK in network namespace `netns`.

    ports: list of (name, vhost-user socket path, MAC); the socket is the VM
    side's (OVS connects to it as client). uplink_type "dpdk" (DPDK's net_af_xdp
    PMD) or "afxdp" (OVS's own AF_XDP netdev). miss_action: "drop" or "normal"
    for frames to no VM's MAC."""

    def __init__(self, workdir, netns, uplink, ports, pmd_cpu, lcore_cpu, bridge="ovsdpdk0",
                 uplink_type="dpdk", memory_mb=2048, miss_action="drop", start_timeout=30,
                 keep_logs=True):
        if uplink_type not in ("dpdk", "afxdp"):
            raise ValueError("uplink_type must be 'dpdk' or 'afxdp'")
        if miss_action not in ("drop", "normal"):
            raise ValueError("miss_action must be 'drop' or 'normal'")
        self.netns, self.uplink, self.bridge = netns, uplink, bridge
        self.ports = [(name, path, mac.lower()) for name, path, mac in ports]
        self.pmd_cpu, self.lcore_cpu = pmd_cpu, lcore_cpu
        self.uplink_type, self.memory_mb, self.miss_action = uplink_type, memory_mb, miss_action
        self.start_timeout, self.keep_logs = start_timeout, keep_logs
        self.state_dir = os.path.join(os.path.abspath(workdir), "ovs-dpdk")
        self.run_dir = os.path.join(self.state_dir, "run")
        self.db_dir = os.path.join(self.state_dir, "db")
        self.log_dir = os.path.join(self.state_dir, "log")
        self.db_socket = os.path.join(self.run_dir, "db.sock")
        self.vswitchd_control = os.path.join(self.run_dir, "ovs-vswitchd.ctl")
        self.ovsdb_control = os.path.join(self.run_dir, "ovsdb-server.ctl")
        self.vswitchd_log = os.path.join(self.log_dir, "ovs-vswitchd.log")
        self.dpdk_prefix = "ovs-dpdk-%d-%d" % (os.getpid(), next(_instance_numbers))
        self.ovsdb_server = self.vswitchd = None
        self._consoles = []

    # -- life cycle --------------------------------------------------------

    def start(self, wait_ports=True):
        """Starts both daemons and configures the bridge; returns when DPDK is
        up and (wait_ports) every port is connected, a vhost-user port once
        its server listens: start the VMs' servers first, or pass
        wait_ports=False and call wait_ports_up() after starting them (OVS
        retries a vhost-user connection every second). On failure everything
        started is stopped again."""
        if not os.path.exists(OVS_VSWITCHD_DPDK):
            raise OvsError("%s missing: apt-get install -y openvswitch-switch-dpdk" % OVS_VSWITCHD_DPDK)
        try:
            self._make_dirs()
            self._start_ovsdb_server()
            self._configure_dpdk()
            self._start_vswitchd()
            self._add_bridge_and_ports()
            self._install_flows()
            if wait_ports:
                self.wait_ports_up()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        """Stops both daemons and removes their sockets, db and run dirs and
        DPDK's runtime dir; safe to call at any time, more than once."""
        if self.vswitchd is not None and self.vswitchd.poll() is None:
            try:  # --cleanup: releases the ports (AF_XDP socket, vhost-user connections) on the way out
                self.appctl("exit", "--cleanup", timeout=10)
            except (OvsError, subprocess.TimeoutExpired):
                pass
        end_process(self.vswitchd)
        end_process(self.ovsdb_server)
        self.vswitchd = self.ovsdb_server = None
        self._detach_uplink_program()
        for console in self._consoles:
            console.close()
        self._consoles = []
        shutil.rmtree(self.run_dir, ignore_errors=True)
        shutil.rmtree(self.db_dir, ignore_errors=True)
        if not self.keep_logs:
            shutil.rmtree(self.state_dir, ignore_errors=True)
        shutil.rmtree(os.path.join(DPDK_RUNTIME_DIR, self.dpdk_prefix), ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- measurements ------------------------------------------------------

    def _detach_uplink_program(self):
        """DPDK's AF_XDP PMD leaves its XDP program (xsk_def_prog) on the
        uplink when OVS exits; whatever uses the uplink next would find it."""
        link = subprocess.run(["ip", "-n", self.netns, "-d", "link", "show", "dev", self.uplink],
                              capture_output=True, text=True)
        if "xsk_def_prog" in link.stdout:
            subprocess.run(["ip", "-n", self.netns, "link", "set", "dev", self.uplink, "xdp", "off"],
                           capture_output=True)

    def pmd_stats(self):
        """The PMD thread's dpif-netdev/pmd-stats-show as a dict (see parse_pmd_stats)."""
        threads = parse_pmd_stats(self.appctl("dpif-netdev/pmd-stats-show"))
        if not threads:
            raise OvsError("no PMD thread in pmd-stats-show")
        for thread in threads:
            if thread["core_id"] == self.pmd_cpu:
                return thread
        return threads[0]

    def pmd_stats_clear(self):
        self.appctl("dpif-netdev/pmd-stats-clear")

    def pmd_thread_ids(self):
        """TIDs of ovs-vswitchd's PMD threads (named pmd-cNN/id:N), for
        /proc/<pid>/task/<tid>/schedstat."""
        pid = self.vswitchd_pid()
        tids = []
        for tid in sorted(os.listdir("/proc/%d/task" % pid), key=int):
            try:
                with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                    if f.read().startswith("pmd"):
                        tids.append(int(tid))
            except FileNotFoundError:
                pass
        return tids

    def vswitchd_pid(self):
        if self.vswitchd is None or self.vswitchd.poll() is not None:
            raise OvsError("ovs-vswitchd is not running")
        return self.vswitchd.pid

    def port_stats(self):
        """{port: {"rx_packets", "tx_packets", "rx_dropped", "tx_dropped", and
        every other counter OVS keeps}} for the uplink ("uplink") and each VM
        port, from the db's Interface statistics: OVS writes them there every
        5 s (stats-update-interval), so they lag by up to that."""
        listing = json.loads(self.vsctl("--format=json", "--columns=name,statistics", "list", "Interface"))
        stats = {}
        for name, cell in listing["data"]:
            if name == self.bridge:
                continue
            counters = parse_ovsdb_map(cell)
            for key in ("rx_packets", "tx_packets", "rx_dropped", "tx_dropped"):
                counters.setdefault(key, 0)
            stats[name] = counters
        return stats

    def tsc_hz(self):
        """The TSC frequency DPDK measured (pmd-stats' cycles are TSC cycles), or None."""
        try:
            with open(self.vswitchd_log) as f:
                found = re.findall(r"TSC frequency: (\d+) KHz", f.read())
        except FileNotFoundError:
            return None
        return int(found[-1]) * 1000 if found else None

    # -- the OVS tools -----------------------------------------------------

    def _environment(self):
        environment = dict(os.environ)
        environment.update(OVS_RUNDIR=self.run_dir, OVS_DBDIR=self.db_dir, OVS_LOGDIR=self.log_dir,
                           OVS_SYSCONFDIR=self.db_dir, OVS_PKGDATADIR="/usr/share/openvswitch")
        return environment

    def _tool(self, argv, stdin=None, timeout=COMMAND_TIMEOUT):
        result = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout + 5,
                                env=self._environment())
        if result.returncode != 0:
            raise OvsError("%s failed (%d): %s" % (" ".join(argv), result.returncode, result.stderr.strip()))
        return result.stdout

    def vsctl(self, *args, wait=True, timeout=COMMAND_TIMEOUT):
        """ovs-vsctl on the private db; wait=False is --no-wait (no ovs-vswitchd yet)."""
        options = ["--db=unix:" + self.db_socket, "--timeout=%d" % timeout]
        if not wait:
            options.append("--no-wait")
        return self._tool(["ovs-vsctl", *options, *args], timeout=timeout)

    def appctl(self, *args, timeout=COMMAND_TIMEOUT):
        return self._tool(["ovs-appctl", "--timeout=%d" % timeout, "-t", self.vswitchd_control, *args],
                          timeout=timeout)

    def ofctl(self, *args, stdin=None, timeout=COMMAND_TIMEOUT):
        bridge_socket = "unix:" + os.path.join(self.run_dir, self.bridge + ".mgmt")
        return self._tool(["ovs-ofctl", "--timeout=%d" % timeout, args[0], bridge_socket, *args[1:]],
                          stdin=stdin, timeout=timeout)

    # -- start, step by step -----------------------------------------------

    def _make_dirs(self):
        shutil.rmtree(self.run_dir, ignore_errors=True)
        shutil.rmtree(self.db_dir, ignore_errors=True)
        for directory in (self.run_dir, self.db_dir, self.log_dir):
            os.makedirs(directory, exist_ok=True)

    def _spawn_in_namespace(self, name, argv):
        """Runs a daemon in the foreground (no --detach: we reap it) in the
        namespace, all its threads on lcore_cpu."""
        console = open(os.path.join(self.log_dir, name + ".console"), "w")
        self._consoles.append(console)
        return subprocess.Popen(["ip", "netns", "exec", self.netns, "taskset", "-c", str(self.lcore_cpu), *argv],
                                stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT,
                                env=self._environment())

    def _expect_running(self, process, name, log):
        if process.poll() is not None:
            console = os.path.join(self.log_dir, name + ".console")
            raise OvsError("%s exited (%s); the end of %s:\n%s\nits output:\n%s" % (
                name, process.returncode, log, tail(log), tail(console)))

    def _start_ovsdb_server(self):
        db_file = os.path.join(self.db_dir, "conf.db")
        self._tool(["ovsdb-tool", "create", db_file, VSWITCH_SCHEMA])
        log = os.path.join(self.log_dir, "ovsdb-server.log")
        self.ovsdb_server = self._spawn_in_namespace("ovsdb-server", [
            "ovsdb-server", db_file, "--remote=punix:" + self.db_socket, "--unixctl=" + self.ovsdb_control,
            "--log-file=" + log])

        def listening():
            self._expect_running(self.ovsdb_server, "ovsdb-server", log)
            return os.path.exists(self.db_socket)
        wait_until("ovsdb-server's socket %s" % self.db_socket, listening, self.start_timeout)
        self.vsctl("init", wait=False)

    def dpdk_extra(self):
        """EAL arguments: no hugepages (anonymous memory; --legacy-mem keeps OVS
        from adding --in-memory, which --no-huge refuses), no PCI scan, a
        runtime dir of our own under /var/run/dpdk."""
        return "--no-huge --legacy-mem -m %d --no-pci --file-prefix %s" % (self.memory_mb, self.dpdk_prefix)

    def _configure_dpdk(self):
        self.vsctl("set", "Open_vSwitch", ".", "other_config:dpdk-init=true",
                   "other_config:dpdk-extra=" + self.dpdk_extra(),
                   "other_config:pmd-cpu-mask=0x%x" % (1 << self.pmd_cpu),
                   wait=False)

    def _start_vswitchd(self):
        self.vswitchd = self._spawn_in_namespace("ovs-vswitchd", [
            OVS_VSWITCHD_DPDK, "unix:" + self.db_socket, "--unixctl=" + self.vswitchd_control,
            "--log-file=" + self.vswitchd_log])

        def dpdk_initialized():
            self._expect_running(self.vswitchd, "ovs-vswitchd", self.vswitchd_log)
            return os.path.exists(self.vswitchd_control) and \
                self.vsctl("get", "Open_vSwitch", ".", "dpdk_initialized", wait=False).strip() == "true"
        wait_until("DPDK to initialize in ovs-vswitchd", dpdk_initialized, self.start_timeout, interval=0.2)

    def uplink_port_name(self):
        """OVS's afxdp netdev opens the kernel interface of the port's name; a
        DPDK port names its device in dpdk-devargs and can be called anything."""
        return self.uplink if self.uplink_type == "afxdp" else UPLINK_PORT

    def uplink_interface_settings(self):
        if self.uplink_type == "dpdk":
            return ["type=dpdk",
                    "options:dpdk-devargs=net_af_xdp0,iface=%s,start_queue=0,queue_count=1" % self.uplink]
        return ["type=afxdp", "options:xdp-mode=best-effort", "options:n_rxq=1"]

    def _add_bridge_and_ports(self):
        uplink = self.uplink_port_name()
        command = ["--", "add-br", self.bridge, "--", "set", "Bridge", self.bridge, "datapath_type=netdev",
                   "--", "add-port", self.bridge, uplink,
                   "--", "set", "Interface", uplink, "ofport_request=%d" % UPLINK_OFPORT,
                   *self.uplink_interface_settings()]
        for number, (name, path, _mac) in enumerate(self.ports, FIRST_VM_OFPORT):
            command += ["--", "add-port", self.bridge, name,
                        "--", "set", "Interface", name, "type=dpdkvhostuserclient",
                        "options:vhost-server-path=" + path, "ofport_request=%d" % number]
        self.vsctl(*command, timeout=self.start_timeout)
        self._check_interface_errors()

    def flows(self):
        """One rule per VM MAC, then the miss rule."""
        rules = ["priority=100,dl_dst=%s,actions=output:%d" % (mac, number)
                 for number, (_name, _path, mac) in enumerate(self.ports, FIRST_VM_OFPORT)]
        rules.append("priority=0,actions=" + self.miss_action)
        return rules

    def _install_flows(self):
        self.ofctl("del-flows")
        self.ofctl("add-flows", "-", stdin="\n".join(self.flows()) + "\n")

    def _check_interface_errors(self):
        listing = json.loads(self.vsctl("--format=json", "--columns=name,error", "list", "Interface"))
        errors = ["%s: %s" % (name, error) for name, error in listing["data"] if isinstance(error, str) and error]
        if errors:
            raise OvsError("OVS refused ports: " + "; ".join(errors))

    def link_states(self):
        listing = json.loads(self.vsctl("--format=json", "--columns=name,link_state", "list", "Interface"))
        return {name: state for name, state in listing["data"]}

    def wait_ports_up(self, timeout=None):
        """Until every port's link is up: the uplink, and each vhost-user port
        connected to its server."""
        names = [self.uplink_port_name()] + [name for name, _path, _mac in self.ports]

        def all_up():
            self._expect_running(self.vswitchd, "ovs-vswitchd", self.vswitchd_log)
            states = self.link_states()
            return all(states.get(name) == "up" for name in names)
        try:
            wait_until("every port's link up (a vhost-user port needs its server listening)", all_up,
                       self.start_timeout if timeout is None else timeout, interval=0.2)
        except OvsError as error:
            raise OvsError("%s: %s" % (error, self.link_states())) from None


def tail(path, lines=30):
    try:
        with open(path) as f:
            return "".join(f.readlines()[-lines:])
    except OSError as error:
        return str(error)


# -- the smoke check -------------------------------------------------------

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = os.path.join(REPO, "deploy", "lab.sh")
SMOKE_LAB = "ovsb"
SMOKE_MAC = "52:54:00:77:00:01"
SMOKE_FRAMES = 50000


class TestpmdGuest:
    """dpdk-testpmd as a VM: a virtio-user port in vhost-user server mode
    (server=1, it listens on `path`), rxonly, statistics every second. Its
    forwarding lcore is CPU 1."""

    def __init__(self, workdir, path, mac, name="vm1"):
        self.prefix = "ovs-dpdk-smoke-%d-%s" % (os.getpid(), name)
        self.log_path = os.path.join(workdir, "testpmd-%s.log" % name)
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            ["stdbuf", "-oL", "dpdk-testpmd", "--no-huge", "-m", "256", "--no-pci", "--single-file-segments",
             "--file-prefix", self.prefix,
             "--vdev", "net_virtio_user0,path=%s,server=1,queues=1,queue_size=1024,mac=%s" % (path, mac),
             "--lcores", "0@1,1@1", "--", "--forward-mode=rxonly", "--stats-period", "1", "-a",
             "--no-lsc-interrupt", "--total-num-mbufs=8192", "--nb-cores=1"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)

    def output(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def received(self):
        found = re.findall(r"RX-packets:\s+(\d+)", self.output())
        return int(found[-1]) if found else 0

    def forwarding(self):
        if self.process.poll() is not None:
            raise OvsError("testpmd exited (%s):\n%s" % (self.process.returncode, self.output()[-3000:]))
        return "Port statistics" in self.output()

    def stop(self):
        end_process(self.process)
        self.log.close()
        shutil.rmtree(os.path.join(DPDK_RUNTIME_DIR, self.prefix), ignore_errors=True)


def testnet_binary():
    build = os.environ.get("VMQ_BUILD_DIR", os.path.join(REPO, "build"))
    return os.path.join(build, "tests", "tools", "vmq-testnet")


def send_frames(count, rate):
    argv = ["ip", "netns", "exec", SMOKE_LAB + "-wire", testnet_binary(), "send", "--iface", "wire0",
            "--dst", SMOKE_MAC, "--src", "52:54:00:77:00:fe", "--dst-ip", "10.77.0.11", "--src-ip", "10.77.0.1",
            "--count", str(count), "--rate", str(rate), "--size", "64", "--max-seconds", "30"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise OvsError("vmq-testnet send failed: %s" % result.stderr.strip())
    return result.stdout.strip()


def uplink_xdp_attachment():
    result = subprocess.run(["ip", "-n", SMOKE_LAB + "-host1", "-d", "link", "show", "uplink0"],
                            capture_output=True, text=True, timeout=10)
    found = re.search(r"\b(xdp\w*)\b.*?prog/xdp id (\d+)", result.stdout, re.S)
    return "%s (prog id %s)" % found.groups() if found else "no XDP program seen"


def smoke(uplink_type):
    """One VM behind a lab uplink: 50,000 64-byte frames at 10,000/s from the
    wire must reach testpmd through OVS. Returns the exit status."""
    subprocess.run([LAB, "down", "--name", SMOKE_LAB], capture_output=True, timeout=60)
    workdir = tempfile.mkdtemp(prefix="ovs-dpdk-smoke-")
    guest = ovs = None
    try:
        subprocess.run([LAB, "up", "--name", SMOKE_LAB, "--vms", "1"], check=True, timeout=60)
        socket_path = os.path.join(workdir, "vm1.sock")
        guest = TestpmdGuest(workdir, socket_path, SMOKE_MAC)  # the server listens first
        wait_until("testpmd's socket", lambda: guest.forwarding() or os.path.exists(socket_path), 20)
        ovs = OvsDpdk(workdir, SMOKE_LAB + "-host1", "uplink0", [("vm1", socket_path, SMOKE_MAC)],
                      pmd_cpu=0, lcore_cpu=0, uplink_type=uplink_type)
        started = time.monotonic()
        ovs.start()
        print("OVS started in %.1f s (uplink type %s, XDP on uplink0: %s); PMD TIDs %s, TSC %s Hz"
              % (time.monotonic() - started, uplink_type, uplink_xdp_attachment(), ovs.pmd_thread_ids(),
                 ovs.tsc_hz()))
        wait_until("testpmd to forward", guest.forwarding, 20)
        ovs.pmd_stats_clear()
        before = guest.received()
        print("vmq-testnet:", send_frames(SMOKE_FRAMES, 10000))
        try:
            wait_until("testpmd's count", lambda: guest.received() - before >= SMOKE_FRAMES, 10, interval=0.5)
        except OvsError:
            pass
        received = guest.received() - before
        time.sleep(6)  # the db's interface statistics are refreshed every 5 s
        print("testpmd RX-packets: %d of %d sent" % (received, SMOKE_FRAMES))
        for name, counters in ovs.port_stats().items():
            print("port %s: rx_packets %d tx_packets %d rx_dropped %d tx_dropped %d" % (
                name, counters["rx_packets"], counters["tx_packets"], counters["rx_dropped"],
                counters["tx_dropped"]))
        stats = ovs.pmd_stats()
        print("pmd core %d: packets_received %s, avg_processing_cycles_per_packet %s, avg_cycles_per_packet %s, "
              "processing_cycles %s, idle_cycles %s" % (
                  stats["core_id"], stats.get("packets_received"), stats.get("avg_processing_cycles_per_packet"),
                  stats.get("avg_cycles_per_packet"), stats.get("processing_cycles"), stats.get("idle_cycles")))
        ok = received >= SMOKE_FRAMES * 0.99
        print("smoke check:", "PASS" if ok else "FAIL")
        return 0 if ok else 1
    except Exception as error:
        print("smoke check: FAIL: %s" % error, file=sys.stderr)
        if ovs is not None:
            print(tail(ovs.vswitchd_log), file=sys.stderr)
        return 1
    finally:
        if ovs is not None:
            ovs.stop()
        if guest is not None:
            guest.stop()
        subprocess.run([LAB, "down", "--name", SMOKE_LAB], capture_output=True, timeout=60)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(smoke(sys.argv[1] if len(sys.argv) > 1 else "dpdk"))
