"""vmqd under deploy/vmqd.service's privileges, without systemd as PID 1.

The capability set, supplementary groups, NoNewPrivileges and UMask are read
from the unit itself and applied with setpriv as systemd applies them to a
root service; its system call filter (SystemCallFilter=, expanded with
`systemd-analyze syscall-filter`, and SystemCallErrorNumber=) is loaded with
libseccomp (python3-seccomp) just before vmqd starts; its read-only file
system (ProtectSystem=strict, ProtectKernelTunables=, ReadWritePaths=) is
imitated with read-only bind mounts in the mount namespace `ip netns exec`
gives vmqd. A queue must work with real traffic so, and taking away any one
of the privileges must make vmqd fail, saying what is missing. The unit must
also pass `systemd-analyze verify` and score at most MAX_EXPOSURE.
"""
import copy
import grp
import os
import re
import shlex
import stat
import tempfile
import unittest

from vmqlab import SOURCE_DIR, VMQD, Agent, Lab, require_root, run, vm_mac

UNIT = os.path.join(SOURCE_DIR, "deploy", "vmqd.service")
MAX_EXPOSURE = 3.0
LOCKED_MEMORY_LIMIT = 8 << 20  # Debian's default RLIMIT_MEMLOCK: less than one 16 MiB UMEM


def service_settings(path=UNIT):
    """The unit's [Service] settings: name -> list of values, with an empty
    assignment clearing the earlier ones, as systemd reads list settings."""
    settings, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                section = line
                continue
            if section != "[Service]":
                continue
            key, value = (part.strip() for part in line.split("=", 1))
            settings[key] = settings.get(key, []) + value.split() if value else []
    return settings


class UnitPrivileges:
    """What systemd gives a process of the unit, as setpriv arguments."""

    def __init__(self, settings):
        user = settings.get("User", ["root"])
        if user not in (["root"], ["0"]) or settings.get("AmbientCapabilities") or settings.get("DynamicUser"):
            raise AssertionError("the test runs root services only; the unit has User=%s" % " ".join(user))
        bounding = settings.get("CapabilityBoundingSet", [])
        if not bounding or any(c.startswith("~") for c in bounding):
            raise AssertionError("the unit must list its capabilities: CapabilityBoundingSet=%s" % bounding)
        self.capabilities = bounding
        self.groups = settings.get("SupplementaryGroups", [])
        self.runtime_directories = settings.get("RuntimeDirectory", [])
        self.no_new_privileges = settings.get("NoNewPrivileges") == ["yes"]
        self.umask = settings.get("UMask", ["0022"])[0]
        hidepid = settings.get("ProtectProc", ["default"])[0]
        self.proc_options = ([] if hidepid == "default" else ["hidepid=" + hidepid]) + (
            ["subset=pid"] if settings.get("ProcSubset") == ["pid"] else [])
        self.syscalls = allowed_syscalls(settings)
        self.syscall_error = settings.get("SystemCallErrorNumber", [""])[0]

    def seccomp(self, without=()):
        """Arguments that run a program under the unit's system call filter,
        less `without`."""
        allowed = [name for name in self.syscalls if name not in without]
        return ["/usr/bin/python3", "-c", SECCOMP_EXEC, ",".join(allowed), self.syscall_error]

    def setpriv(self, without=(), groups=None):
        """setpriv arguments that give a root process the unit's capabilities,
        less `without`: systemd bounds a root service's capabilities with
        CapabilityBoundingSet= and leaves the inheritable set empty."""
        kept = [c for c in self.capabilities if c not in without]
        caps = ",".join(["-all"] + ["+" + c.lower().removeprefix("cap_") for c in kept])
        groups = self.groups if groups is None else groups
        args = ["setpriv", "--inh-caps=-all", "--bounding-set=" + caps]
        args += ["--groups=" + ",".join(groups)] if groups else ["--clear-groups"]
        if self.no_new_privileges:
            args.append("--no-new-privs")
        return args


def syscall_groups():
    """systemd's system call groups: "@name" -> its entries (calls and groups)."""
    groups, current = {}, None
    for line in run(["systemd-analyze", "syscall-filter"]).stdout.splitlines():
        if line.startswith("@"):
            current = groups.setdefault(line.strip(), [])
        elif current is not None and line.strip() and not line.strip().startswith("#"):
            current.append(line.strip())
    return groups


def allowed_syscalls(settings):
    """The system calls SystemCallFilter= allows (an allow list only: the
    test does not imitate a deny list)."""
    entries = settings.get("SystemCallFilter", [])
    if not entries or any(e.startswith("~") for e in entries):
        raise AssertionError("the test imitates an allow list only: SystemCallFilter=%s" % entries)
    groups, allowed, seen = syscall_groups(), set(), set()
    pending = entries + ["@default"]  # systemd always permits @default
    while pending:
        entry = pending.pop()
        if entry.startswith("@"):
            if entry not in seen:
                seen.add(entry)
                pending += groups[entry]
        else:
            allowed.add(entry)
    return sorted(allowed)


# Loads the filter and becomes the program: seccomp needs no privilege once
# NoNewPrivileges is set, as under systemd.
SECCOMP_EXEC = """
import errno, os, seccomp, sys
allowed, error, program = sys.argv[1].split(","), sys.argv[2], sys.argv[3:]
action = seccomp.ERRNO(getattr(errno, error)) if error else seccomp.KILL_PROCESS
syscall_filter = seccomp.SyscallFilter(defaction=action)
for name in allowed:
    try:
        syscall_filter.add_rule(seccomp.ALLOW, name)
    except (RuntimeError, ValueError):
        pass  # not a system call of this architecture
syscall_filter.load()
os.execv(program[0], program)
"""


def sandbox_script(privileges, writable):
    """sh commands that leave the file system as the unit does, run in the
    private mount namespace of `ip netns exec`: bpffs mounted (systemd does it
    at boot); /proc as ProtectProc= and ProcSubset= make it; every mount
    read-only (ProtectSystem=strict) but /dev and /proc, and /sys and /proc/sys
    too (ProtectKernelTunables=); writable only the given directories (the
    unit's StateDirectory= and RuntimeDirectory=) and bpffs (ReadWritePaths=)."""
    keep = "".join(" | " + shlex.quote(d) for d in writable)
    proc_options = ",".join(privileges.proc_options) or "defaults"
    return ("set -e\n"
            "umask %s\n"
            "mount -t proc -o %s proc /proc\n"
            "mount -t bpf bpf /sys/fs/bpf\n"
            "for dir in %s; do mount --bind \"$dir\" \"$dir\"; done\n"
            "if [ -d /proc/sys ]; then mount --bind /proc/sys /proc/sys; fi\n"
            "findmnt -rn -o TARGET | while read -r target; do\n"
            "  case $target in\n"
            "    /dev | /dev/* | /proc | /sys/fs/bpf%s) ;;\n"
            "    /proc/*) if [ $target = /proc/sys ]; then mount -o remount,bind,ro $target; fi ;;\n"
            "    *) mount -o remount,bind,ro \"$target\" ;;\n"
            "  esac\n"
            "done\n"
            'exec "$@"\n') % (privileges.umask, proc_options, " ".join(shlex.quote(d) for d in writable), keep)


class SandboxedLab:
    """The lab, but vmqd starts in the unit's sandbox, with its own directory
    for the agent's socket, state and log: Agent(SandboxedLab(...))."""

    def __init__(self, lab, name, privileges, without=(), groups=None, locked_memory=None, without_syscalls=(),
                 writable=()):
        self.lab = lab
        self.workdir = os.path.join(lab.workdir, name)
        os.makedirs(self.workdir)
        self.prefix = ["sh", "-c", sandbox_script(privileges, [self.workdir] + list(writable)), "vmqd-sandbox"]
        if locked_memory is not None:
            self.prefix += ["prlimit", "--memlock=%d:%d" % (locked_memory, locked_memory)]
        self.prefix += privileges.setpriv(without, groups) + privileges.seccomp(without_syscalls)

    def popen(self, role, cmd, **kwargs):
        if cmd[0] == VMQD:
            cmd = self.prefix + cmd
        return self.lab.popen(role, cmd, **kwargs)

    def exec(self, role, cmd, **kwargs):
        return self.lab.exec(role, cmd, **kwargs)


def status_field(pid, name):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split(":", 1)[1].strip()
    raise AssertionError("no %s in /proc/%d/status" % (name, pid))


def capability_mask(names):
    numbers = {"CAP_IPC_LOCK": 14, "CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_SYS_ADMIN": 21, "CAP_BPF": 39,
               "CAP_PERFMON": 38, "CAP_CHOWN": 0}
    mask = 0
    for name in names:
        if name not in numbers:
            raise AssertionError("the test does not know %s: add its number" % name)
        mask |= 1 << numbers[name]
    return mask


@require_root
class UnderTheUnitsPrivileges(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.privileges = UnitPrivileges(service_settings())
        for name in cls.privileges.groups:
            try:
                grp.getgrnam(name)
            except KeyError:  # the package makes it (vmq.sysusers); made here for the test only
                run(["groupadd", "--system", name])
                cls.addClassCleanup(run, ["groupdel", name], check=False)
        cls.lab = Lab("sbx", vms=1).__enter__()
        cls.addClassCleanup(cls.lab.__exit__)

    def agent(self, name, without=(), groups=None, locked_memory=None, without_syscalls=(), writable=(), config=None):
        sandboxed = SandboxedLab(self.lab, name, self.privileges, without, groups, locked_memory, without_syscalls,
                                 writable)
        agent = Agent(sandboxed, config=config)
        # The lab's agents leave the socket to root; this one uses the unit's group.
        agent.args[agent.args.index("--socket-group") + 1] = (self.privileges.groups or [""])[0]
        return agent

    def test_a_queue_delivers_traffic_with_exactly_the_units_privileges(self):
        with self.agent("full") as agent:
            pid = agent.process.pid
            # ip netns exec, sh and setpriv exec in turn: the process is vmqd itself.
            self.assertEqual(os.readlink("/proc/%d/exe" % pid), os.path.realpath(VMQD))
            self.assertEqual(int(status_field(pid, "CapEff"), 16), capability_mask(self.privileges.capabilities))
            self.assertEqual(int(status_field(pid, "CapBnd"), 16), capability_mask(self.privileges.capabilities))
            self.assertEqual(status_field(pid, "NoNewPrivs"), "1" if self.privileges.no_new_privileges else "0")
            self.assertEqual(status_field(pid, "Seccomp"), "2")  # a filter
            for name in self.privileges.groups:
                self.assertIn(str(grp.getgrnam(name).gr_gid), status_field(pid, "Groups").split())

            # The control socket went to the unit's group without CAP_CHOWN.
            socket_stat = os.stat(agent.socket_path)
            if self.privileges.groups:
                self.assertEqual(socket_stat.st_gid, grp.getgrnam(self.privileges.groups[0]).gr_gid)
                self.assertEqual(stat.S_IMODE(socket_stat.st_mode), 0o660)
            self.assertNotIn("missing capability", agent.log_text())

            agent.add_queue("vm1", 1)
            receiver = self.lab.receiver("vm1", seconds=20, expect=3000)
            sent = self.lab.send(dst_vm=1, count=3000, rate=20000, flow=1)
            self.assertEqual(sent["sent"], 3000)
            flow = receiver.result()["flows"]["1"]
            self.assertEqual(flow["unique"], 3000)
            agent.wait_quiet(["vm1"])
            counters = agent.queue("vm1")["counters"]
            self.assertEqual(counters["classified"]["packets"], 3000)
            self.assertEqual(counters["delivered"]["packets"], 3000)
            self.assertEqual(agent.stop(), 0, agent.log_text())

    def test_a_vhost_user_queue_and_its_leg_work_with_the_units_privileges(self):
        # DPDK's EAL keeps its runtime files in /run/dpdk: the unit's RuntimeDirectory=.
        runtime = self.privileges.runtime_directories
        self.assertIn("dpdk", runtime, "the unit gives DPDK /run/dpdk")
        os.makedirs("/run/dpdk", exist_ok=True)
        config = os.path.join(self.lab.workdir, "vhost.toml")
        with open(config, "w") as f:
            f.write('vhost_user_bridge = "br0"\n')
        with self.agent("vhost", writable=["/run/dpdk"], config=config) as agent:
            path = os.path.join(agent.lab.workdir, "vm1.sock")
            status, out, err = agent.vmqctl("queue", "add", "vm1", "--uplink", "uplink0", "--vhost-user", path,
                                            "--mac", vm_mac(1), "--cpu", "0")
            self.assertEqual(status, 0, err + agent.log_text())
            self.assertTrue(stat.S_ISSOCK(os.stat(path).st_mode))
            self.assertIn("vmqvu1", self.lab.exec("host1", ["ip", "-br", "link"]).stdout)
            self.assertEqual(agent.stop(), 0, agent.log_text())

    def assert_fails(self, agent, lacking, message):
        """vmqd must exit by itself, non-zero, before it is ready, and its log
        must hold the message."""
        agent.start(wait_ready=False)
        try:
            agent.wait_notification("READY=1", timeout=20)
            ready = True
        except AssertionError:  # it exited first, or never got ready
            ready = False
        finally:
            agent.__exit__()
        log = agent.log_text()
        self.assertFalse(ready, "vmqd runs without %s:\n%s" % (lacking, log))
        self.assertGreater(agent.process.returncode, 0, "vmqd did not fail by itself:\n" + log)
        self.assertIn(message, log)
        self.assertRegex(log, r"vmqd: error: ")

    def test_each_capability_is_needed(self):
        for cap in self.privileges.capabilities:
            with self.subTest(cap=cap):
                # Without CAP_IPC_LOCK the UMEM counts against the locked-memory
                # limit, which the unit leaves at the system's default.
                agent = self.agent("no-" + cap.lower().replace("_", "-"), without=[cap],
                                   locked_memory=LOCKED_MEMORY_LIMIT)
                try:
                    self.assert_fails(agent, cap, "missing capability " + cap)
                    # A vmqd that fails leaves the uplink as it found it.
                    self.assertEqual(self.lab.xdp_program_id(), 0, "an XDP program was left on the uplink")
                finally:  # the next run starts clean even so
                    self.lab.exec("host1", ["ip", "link", "set", "dev", "uplink0", "xdp", "off"], check=False)

    def test_a_vmqd_unable_to_read_programs_by_id_leaves_the_uplink_as_it_found_it(self):
        # CAP_BPF and CAP_PERFMON instead of CAP_SYS_ADMIN: the classifier
        # loads, but libxdp cannot read attached programs by id. vmqd used to
        # fail moving the classifier to a bpf_link and leave it attached over
        # netlink; it now detaches it over netlink, naming the program.
        privileges = copy.copy(self.privileges)
        privileges.capabilities = [c for c in self.privileges.capabilities if c != "CAP_SYS_ADMIN"] + [
            "CAP_BPF", "CAP_PERFMON"]
        agent = Agent(SandboxedLab(self.lab, "no-sys-admin", privileges, (), None, None, ()))
        agent.args[agent.args.index("--socket-group") + 1] = (self.privileges.groups or [""])[0]
        try:
            agent.start(wait_ready=False)
            try:
                agent.wait_notification("READY=1", timeout=20)
                ready = True
            except AssertionError:  # failing is allowed; leaving a program behind is not
                ready = False
            if ready:  # where libxdp's dispatcher is refused (as here), a bpf_link needs no CAP_SYS_ADMIN
                self.assertEqual(agent.json("status")["uplinks"][0]["attach_method"], "bpf-link")
            agent.__exit__()
            self.assertEqual(self.lab.xdp_program_id(), 0, "an XDP program was left on the uplink:\n" +
                             agent.log_text())
        finally:
            self.lab.exec("host1", ["ip", "link", "set", "dev", "uplink0", "xdp", "off"], check=False)

    def test_the_system_call_filter_is_enforced(self):
        # bpf(2) is the one call the unit adds to @system-service: without it
        # vmqd cannot load its classifier, which shows the filter applies.
        self.assertIn("bpf", self.privileges.syscalls)
        agent = self.agent("no-bpf-syscall", without_syscalls=["bpf"])
        self.assert_fails(agent, "bpf(2)", "Operation not permitted")

    def test_the_control_socket_needs_the_supplementary_group(self):
        if not self.privileges.groups:
            self.skipTest("the unit gives no supplementary group")
        with self.agent("no-group", groups=[]) as agent:
            socket_stat = os.stat(agent.socket_path)
            self.assertEqual(stat.S_IMODE(socket_stat.st_mode), 0o600)
            self.assertEqual(socket_stat.st_gid, 0)
            self.assertIn("SupplementaryGroups=", agent.log_text())
            self.assertEqual(agent.stop(), 0)

    def test_the_file_system_outside_its_directories_is_read_only(self):
        # The imitation itself: what the unit forbids fails in the sandbox.
        writable = os.path.join(self.lab.workdir, "fs-probe")
        os.makedirs(writable)
        script = sandbox_script(self.privileges, [writable])
        create = 'touch "$1" && rm "$1"'
        make_directory = 'mkdir "$1" && rmdir "$1"'  # bpffs holds no plain files
        rewrite = 'value=$(cat "$1") && echo "$value" > "$1"'  # a per-namespace sysctl, left as it was
        for command, path, allowed in ((create, os.path.join(writable, "probe"), True),
                                       (make_directory, "/sys/fs/bpf/vmq-probe", True),
                                       (create, "/var/lib/vmq-sandbox-probe", False),
                                       (create, os.path.join(self.lab.workdir, "probe"), False),
                                       (rewrite, "/proc/sys/net/ipv4/ip_forward", False)):
            with self.subTest(path=path):
                probe = self.lab.exec("host1", ["sh", "-c", script, "sandbox", "sh", "-c", command, "probe", path],
                                      check=False)
                self.assertEqual(probe.returncode == 0, allowed, probe.stderr)
                if not allowed and command != rewrite:  # ProcSubset=pid hides /proc/sys altogether
                    self.assertIn("Read-only file system", probe.stderr)
                if command != rewrite:
                    self.assertFalse(os.path.exists(path))


class TheUnitFile(unittest.TestCase):
    def test_exposure_is_at_most_the_target(self):
        out = run(["systemd-analyze", "security", "--offline=yes", UNIT]).stdout
        score = float(re.search(r"Overall exposure level for vmqd\.service: ([0-9.]+)", out).group(1))
        self.assertLessEqual(score, MAX_EXPOSURE, out)

    @unittest.skipUnless(os.path.exists(VMQD), "needs vmqd built (VMQ_BUILD_DIR)")
    def test_systemd_analyze_verify_passes(self):
        # verify checks that ExecStart= is executable: point it at the build.
        with tempfile.TemporaryDirectory() as scratch:
            with open(UNIT) as f:
                text = f.read()
            self.assertIn("ExecStart=/usr/sbin/vmqd ", text)
            unit = os.path.join(scratch, "vmqd.service")
            with open(unit, "w") as f:
                f.write(text.replace("ExecStart=/usr/sbin/vmqd ", "ExecStart=%s " % VMQD))
            result = run(["systemd-analyze", "verify", "--man=no", unit], check=False)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            self.assertNotIn("vmqd.service", result.stderr, result.stderr)


if __name__ == "__main__":
    unittest.main()
