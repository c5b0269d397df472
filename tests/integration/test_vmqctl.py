"""vmqctl against a real vmqd in the lab: every command's human and JSON
output and exit code, the errors operators will meet, `trace` checked
against real traffic, and `stats --watch` under a terminal; and against an
agent whose replies vmqctl cannot read."""
import grp
import json
import os
import re
import shutil
import socket
import tempfile
import threading
import unittest

from vmqlab import VMQCTL, Agent, Lab, require_root, run, vm_mac, wait_for

OK, REFUSED, USAGE, UNREACHABLE = 0, 1, 2, 3
MAC1, MAC2 = vm_mac(1), vm_mac(2)


@require_root
class Commands(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab("ct1", vms=2).__enter__()
        cls.agent = Agent(cls.lab).start()

    @classmethod
    def tearDownClass(cls):
        cls.agent.__exit__()
        cls.lab.__exit__()

    def ctl(self, *args, status=OK):
        code, out, err = self.agent.vmqctl(*args)
        self.assertEqual(code, status, "vmqctl %s: %s%s" % (" ".join(args), out, err))
        return out, err

    def ctl_json(self, *args, status=OK):
        out, err = self.ctl("--json", *args, status=status)
        return json.loads(out)  # exactly one document, errors included

    def tearDown(self):
        for q in self.agent.json("queue", "list")["queues"]:
            self.agent.json("queue", "del", q["name"])

    def test_status_and_caps(self):
        out, _ = self.ctl("status")
        self.assertRegex(out, r"vmqd 0\.1\.0 \(protocol 1\)")
        self.assertRegex(out, r"uplink0\s+1\s+native\s+(bpf-link|libxdp-dispatcher)")
        status = self.ctl_json("status")
        self.assertEqual(status["uplinks"][0]["name"], "uplink0")
        self.assertEqual((status["queues"], status["max_queues"]), (0, 64))
        caps = self.ctl_json("caps", "uplink0")
        self.assertEqual(caps["vlan_modes"], ["access", "trunk"])
        self.assertEqual(caps["filter_fields"], ["destination_mac", "vlan_id"])
        self.assertEqual(caps["uplinks"][0]["rx_queues"], 1)
        out, _ = self.ctl("caps")
        self.assertIn("max queues", out.lower())
        error = self.ctl_json("caps", "nosuch0", status=REFUSED)
        self.assertEqual(error["error"]["code"], "not_found")

    def test_queue_lifecycle(self):
        out, _ = self.ctl("queue", "add", "web1", "--uplink", "uplink0", "--port", "vm1port", "--mac", MAC1,
                          "--vlan", "100", "--vlan-mode", "access", "--vm", "guest1", "--cpu", "1", "--frames", "200")
        self.assertRegex(out, r"queue web1 \(id 1\) added: running on CPU 1, filter 1 \(MAC %s VLAN 100\)" % MAC1)
        out, _ = self.ctl("queue", "list")
        self.assertRegex(out.splitlines()[0], r"^ID\s+NAME\s+VM\s+UPLINK\s+PORT\s+STATE\s+CPU")
        self.assertRegex(out, r"1\s+web1\s+guest1\s+uplink0\s+vm1port\s+running\s+1\s+1")
        q = self.ctl_json("queue", "show", "1")
        self.assertEqual((q["name"], q["frames"], q["vlan_mode"], q["filters"][0]["vlan"]), ("web1", 256, "access", 100))
        out, _ = self.ctl("queue", "show", "web1")
        self.assertRegex(out, r"worker:\s+tid \d+ on CPU 1")
        q = self.ctl_json("queue", "set", "web1", "--cpu", "0", "--name", "web2", "--vm", "guest2")
        self.assertEqual((q["name"], q["cpu"], q["vm"]), ("web2", 0, "guest2"))
        self.assertEqual(self.ctl_json("queue", "pause", "web2")["state"], "paused")
        self.assertEqual(self.ctl_json("queue", "resume", "web2")["state"], "running")
        out, _ = self.ctl("queue", "del", "web2")
        self.assertRegex(out, r"queue web2 \(id 1\) deleted: \d+ frame\(s\) drained in")
        self.assertEqual(self.ctl_json("queue", "list")["queues"], [])

    def test_filters(self):
        self.ctl("queue", "add", "web1", "--uplink", "uplink0", "--port", "vm1port", "--mac", MAC1)
        out, _ = self.ctl("filter", "add", "web1", "--mac", "52:54:00:77:00:aa", "--vlan", "7")
        self.assertRegex(out, r"filter 2 added to queue web1 \(id 1\): MAC 52:54:00:77:00:aa VLAN 7")
        f = self.ctl_json("filter", "add", "1", "--mac", "52:54:00:77:00:ab", "--untagged")
        self.assertEqual((f["id"], f["vlan"], f["queue"]["name"]), (3, None, "web1"))
        out, _ = self.ctl("filter", "list")
        self.assertRegex(out, r"3\s+web1\s+1\s+52:54:00:77:00:ab\s+untagged")
        self.assertEqual(len(self.ctl_json("filter", "list", "web1")["filters"]), 3)
        self.assertEqual(self.ctl_json("filter", "del", "2")["id"], 2)
        self.assertEqual([f["id"] for f in self.ctl_json("filter", "list")["filters"]], [1, 3])

    def test_stats_and_trace_outputs(self):
        self.ctl("queue", "add", "web1", "--uplink", "uplink0", "--port", "vm1port", "--mac", MAC1)
        out, _ = self.ctl("stats")
        self.assertIn("uplink uplink0: default queue", out)
        self.assertRegex(out, r"broadcast_multicast\s+\d+")
        stats = self.ctl_json("stats", "web1")
        self.assertEqual([q["name"] for q in stats["queues"]], ["web1"])
        out, _ = self.ctl("trace", "--uplink", "uplink0", "--dst", MAC1)
        self.assertTrue(out.startswith("delivered to queue web1 (id 1) by filter 1"), out)
        out, _ = self.ctl("version")
        self.assertRegex(out, r"vmqctl 0\.1\.0.*\n.*vmqd\s+0\.1\.0")

    def test_errors_name_the_problem_and_use_the_right_exit_code(self):
        self.ctl("queue", "add", "db2", "--uplink", "uplink0", "--port", "vm2port", "--mac", "52:54:00:aa:bb:cc",
                 "--vlan", "100")
        add_web1 = ["queue", "add", "web1", "--uplink", "uplink0", "--port", "vm1port"]
        cases = [
            (["queue", "show", "nosuch"], REFUSED, "not_found", r"no queue named 'nosuch'"),
            (["queue", "del", "42"], REFUSED, "not_found", r"no queue with id 42"),
            (add_web1 + ["--mac", "52:54:00:aa:bb:cc", "--vlan", "100"], REFUSED, "conflict",
             r"queue web1: MAC 52:54:00:aa:bb:cc VLAN 100 is already used by queue db2 \(filter 1\)"),
            (add_web1 + ["--mac", "52:54:00:zz:00:01"], USAGE, "invalid_argument", r"invalid MAC address"),
            (add_web1 + ["--mac", MAC1, "--vlan", "0"], USAGE, "invalid_argument", r"--untagged"),
            (add_web1 + ["--mac", MAC1, "--vlan", "4095"], USAGE, "invalid_argument", r"4095"),
            (add_web1 + ["--mac", MAC1, "--vlan", "5000"], USAGE, "invalid_argument", r"5000"),
            (add_web1 + ["--mac", MAC1, "--cpu", "99"], REFUSED, "invalid_argument", r"CPU 99 is not online"),
            (add_web1 + ["--mac", MAC1, "--vlan", "3", "--untagged"], USAGE, "invalid_argument", r"--untagged"),
            (["filter", "del", "abc"], USAGE, "invalid_argument", r"FILTER_ID"),
            (["frobnicate"], USAGE, "usage", r"unknown command 'frobnicate'"),
        ]
        for args, status, code, pattern in cases:
            with self.subTest(args=args):
                code_out, out, err = self.agent.vmqctl(*args)
                self.assertEqual(code_out, status, out + err)
                self.assertRegex(err, pattern)
                error = self.ctl_json(*args, status=status)["error"]
                self.assertEqual(error["code"], code)
        self.assertEqual([q["name"] for q in self.ctl_json("queue", "list")["queues"]], ["db2"],
                         "a refused command changed something")

    def test_an_unreachable_agent_says_where_it_looked(self):
        missing = os.path.join(self.lab.workdir, "nobody-here.sock")
        result = self.lab.exec("host1", [VMQCTL, "--socket", missing, "status"], check=False)
        self.assertEqual(result.returncode, UNREACHABLE)
        self.assertIn("cannot reach vmqd at %s" % missing, result.stderr)
        self.assertIn("systemctl start vmqd", result.stderr)
        result = self.lab.exec("host1", [VMQCTL, "--json", "status"], check=False,
                               env=dict(os.environ, VMQ_SOCKET=missing))
        self.assertEqual(result.returncode, UNREACHABLE)
        self.assertEqual(json.loads(result.stdout)["error"]["code"], "unreachable")


class AnAgentOfAnotherVersion(unittest.TestCase):
    """A reply with a field renamed or missing fails loudly: exit 1, code
    protocol, the field named; nothing is printed from it."""

    def agent_answering(self, result):
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        path = os.path.join(directory, "vmqd.sock")
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)
        server.listen(1)
        server.settimeout(10)
        self.addCleanup(server.close)

        def serve():
            connection, _ = server.accept()
            with connection:
                request = json.loads(connection.makefile().readline())
                reply = {"vmq": 1, "id": request["id"], "result": result}
                connection.sendall((json.dumps(reply) + "\n").encode())

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 10)
        return path

    STATUS = {"version": "9.9.9", "protocol": 1, "pid": 1, "host_id": "h", "uptime_seconds": 5, "queues": 0,
              "filters": 0, "max_queues": 64, "max_filters": 1024, "uplinks": [],
              "cpus": [{"cpu": 1, "queues": 0, "busy_share": None, "worker_share": None, "softirq_share": None}],
              "rebalancer": {"enabled": False, "high": 0.8, "low": 0.3, "moves": 0}}

    def test_a_readable_reply_is_printed(self):
        result = run([VMQCTL, "--socket", self.agent_answering(self.STATUS), "status"], check=False)
        self.assertEqual(result.returncode, OK, result.stderr)
        self.assertIn("vmqd 9.9.9 (protocol 1)", result.stdout)

    def test_a_renamed_field_is_an_error_naming_it(self):
        renamed = dict(self.STATUS)
        renamed["agent_version"] = renamed.pop("version")
        result = run([VMQCTL, "--socket", self.agent_answering(renamed), "status"], check=False)
        self.assertEqual(result.returncode, REFUSED)
        self.assertEqual(result.stdout, "", "nothing printed from a reply vmqctl cannot read")
        self.assertIn("cannot read vmqd's reply: status reply: version is missing", result.stderr)

    def test_a_field_of_another_type_is_an_error_document_with_json(self):
        mistyped = dict(self.STATUS, uptime_seconds="5s")
        result = run([VMQCTL, "--json", "--socket", self.agent_answering(mistyped), "status"], check=False)
        self.assertEqual(result.returncode, REFUSED)
        error = json.loads(result.stdout)["error"]
        self.assertEqual(error["code"], "protocol")
        self.assertIn("uptime_seconds must be an integer", error["message"])


@require_root
class Access(unittest.TestCase):
    GROUP = "vmqtest"

    def test_only_root_and_the_group_may_use_the_socket(self):
        run(["groupadd", "-f", self.GROUP])
        try:
            gid = grp.getgrnam(self.GROUP).gr_gid
            with Lab("ct2", vms=1) as lab:
                agent = Agent(lab)
                agent.args[agent.args.index("--socket-group") + 1] = self.GROUP
                with agent.start():
                    os.chmod(agent.dir, 0o755)
                    os.chmod(lab.workdir, 0o755)
                    mode = os.stat(agent.socket_path).st_mode & 0o777
                    self.assertEqual(mode, 0o660)

                    def as_nobody(*groups):
                        cmd = ["setpriv", "--reuid=65534", "--regid=65534"]
                        cmd += ["--groups=" + ",".join(map(str, groups))] if groups else ["--clear-groups"]
                        return lab.exec("host1", cmd + [VMQCTL, "--socket", agent.socket_path, "--json", "status"],
                                        check=False)

                    outsider = as_nobody()
                    self.assertEqual(outsider.returncode, REFUSED, outsider.stdout + outsider.stderr)
                    self.assertEqual(json.loads(outsider.stdout)["error"]["code"], "permission")
                    self.assertIn("permission denied", outsider.stderr)
                    member = as_nobody(gid)
                    self.assertEqual(member.returncode, OK, member.stdout + member.stderr)
                    self.assertEqual(json.loads(member.stdout)["uplinks"][0]["name"], "uplink0")
        finally:
            run(["groupdel", self.GROUP], check=False)


@require_root
class TraceAgreesWithTraffic(unittest.TestCase):
    def test_trace_predicts_where_real_frames_go(self):
        with Lab("ct3", vms=2) as lab, Agent(lab) as agent:
            agent.add_queue("tagged", 1, vlan=100, mode="trunk")
            agent.add_queue("untagged", 2)

            def trace(dst, vlan=None):
                args = ["trace", "--uplink", "uplink0", "--dst", dst] + (["--vlan", str(vlan)] if vlan else [])
                return agent.json(*args)

            def counted(after, before):
                """Frames the classifier counted between two stats: into queues or the default queue."""
                queues = sum(q["counters"]["classified"]["packets"] - b["counters"]["classified"]["packets"]
                             for q, b in zip(after["queues"], before["queues"]))
                d_after, d_before = after["uplinks"][0]["default_queue"], before["uplinks"][0]["default_queue"]
                return queues + d_after["total"]["packets"] - d_before["total"]["packets"]

            def where_frames_went(dst, vlan=None, count=200):
                before = agent.stats()
                lab.send(dst_mac=dst, vlans=[vlan] if vlan else [], count=count, rate=4000, flow=7)
                after = wait_for("the classifier to count the %d frames sent" % count, agent.stats,
                                 lambda stats: counted(stats, before) >= count)
                moved = [q["name"] for q, b in zip(after["queues"], before["queues"])
                         if q["counters"]["classified"]["packets"] - b["counters"]["classified"]["packets"] == count]
                d_after, d_before = after["uplinks"][0]["default_queue"], before["uplinks"][0]["default_queue"]
                reasons = [r for r in d_after if r != "total" and
                           d_after[r]["packets"] - d_before[r]["packets"] == count]
                return moved, reasons

            cases = [("matched tagged frame", MAC1, 100), ("matched untagged frame", MAC2, None),
                     ("broadcast", "ff:ff:ff:ff:ff:ff", None), ("unknown MAC", "52:54:00:77:00:77", None)]
            for label, dst, vlan in cases + [("paused queue", MAC2, None)]:
                if label == "paused queue":
                    agent.json("queue", "pause", "untagged")
                with self.subTest(label):
                    predicted = trace(dst, vlan)
                    queues, reasons = where_frames_went(dst, vlan)
                    if predicted["destination"] == "queue":
                        self.assertEqual(queues, [predicted["queue"]["name"]], predicted)
                        self.assertEqual(reasons, [])
                    else:
                        self.assertEqual(queues, [])
                        self.assertEqual(reasons, [predicted["reason"]], predicted)
            self.assertEqual(trace(MAC1, 100)["destination"], "queue")
            self.assertEqual(trace(MAC2)["reason"], "queue_not_running")
            self.assertEqual(trace("ff:ff:ff:ff:ff:ff")["reason"], "broadcast_multicast")
            self.assertEqual(trace("52:54:00:77:00:77")["reason"], "no_filter")


@require_root
class WatchUnderATerminal(unittest.TestCase):
    def test_stats_watch_redraws_and_exits_cleanly_on_ctrl_c(self):
        session = "vmqctl-watch-test"
        with Lab("ct4", vms=1) as lab, Agent(lab) as agent:
            agent.add_queue("web1", 1)
            command = "ip netns exec %s %s --socket %s stats --watch 0.5; echo EXIT=$?" % (
                lab.ns("host1"), VMQCTL, agent.socket_path)
            # The pane stays, with what it showed, once the command is over (until kill-session).
            run(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "50", command,
                 ";", "set-option", "-t", session, "remain-on-exit", "on"])
            try:
                def screen():
                    return run(["tmux", "capture-pane", "-p", "-t", session]).stdout

                first = wait_for("the first screen of stats --watch, with queue web1", screen,
                                 lambda text: "web1" in text)
                lab.send(dst_vm=1, count=3000, rate=3000, flow=1)
                # 3,000 frames (and an ARP reply)
                second = wait_for("a redraw with web1's 3,000 frames", screen,
                                  lambda text: re.search(r"web1\s+uplink0\s+running\s+30\d\d\s", text))
                self.assertNotEqual(first, second, "the screen was not redrawn")
                self.assertEqual(second.count("queues:"), 1, "redrawn in place, not appended")
                run(["tmux", "send-keys", "-t", session, "C-c"])
                last = wait_for("vmqctl to exit after Ctrl-C", screen, lambda text: "EXIT=" in text)
                self.assertIn("EXIT=0", last)
            finally:
                run(["tmux", "kill-session", "-t", session], check=False)


if __name__ == "__main__":
    unittest.main()
