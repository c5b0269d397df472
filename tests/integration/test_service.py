"""vmqd as a service: systemd notifications, signals, configuration, saved
state, fail-open behaviour and coexistence with other XDP programs."""
import json
import os
import signal
import unittest

from vmqlab import BUILD_DIR, VMQD, Agent, Lab, require_root, run, wait_for

FOREIGN_XDP = os.path.join(BUILD_DIR, "tests", "integration", "skel", "foreign_xdp.bpf.o")


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


@require_root
class Lifecycle(unittest.TestCase):
    def test_ready_once_attached_stopping_and_clean_stop_on_sigterm(self):
        with Lab("sv1", vms=1) as lab:
            agent = Agent(lab).start()
            self.assertNotEqual(lab.xdp_program_id(), 0, "READY before the classifier was attached")
            agent.add_queue("vm1", 1)
            self.assertEqual(agent.stop(signal.SIGTERM), 0)
            self.assertTrue(any("STOPPING=1" in n for n in agent.notifications), agent.notifications)
            self.assertEqual(lab.xdp_program_id(), 0, "the classifier is still attached after SIGTERM")
            self.assertFalse(os.path.exists(agent.socket_path))
            self.assertIn("queues drained, classifier detached", agent.log_text())
            # The VM keeps its connectivity through the host's bridge.
            self.assertIn(" 0% packet loss", lab.ping(1, count=3).stdout)

    def test_watchdog_is_fed(self):
        with Lab("sv2", vms=1) as lab:
            agent = Agent(lab).start(env={"WATCHDOG_USEC": "300000"})
            try:
                agent.wait_notification("WATCHDOG=1", timeout=3)
            finally:
                agent.stop()

    def test_sighup_reloads_what_can_change_and_keeps_running_on_a_broken_file(self):
        with Lab("sv3", vms=1) as lab:
            config = os.path.join(lab.workdir, "vmqd.toml")
            write(config, 'uplinks = ["uplink0"]\nlog_level = "info"\n')
            agent = Agent(lab, uplinks=(), config=config).start()
            try:
                write(config, 'uplinks = ["uplink0"]\nlog_level = "debug"\nmax_queues = 8\n')
                agent.reload()
                log = agent.log_text()
                self.assertIn("configuration reloaded", log)
                self.assertIn("max_queues changed and will apply at the next restart", log)
                write(config, 'uplinks = ["uplink0"]\nmax_queues = "many"\n')
                agent.reload()
                self.assertRegex(agent.log_text(), r"reload refused.*key 'max_queues': must be an integer")
                self.assertEqual(agent.json("status")["max_queues"], 64, "the running configuration changed")
            finally:
                self.assertEqual(agent.stop(), 0)


@require_root
class Configuration(unittest.TestCase):
    def check_refused(self, toml, pattern, status=2):
        with Lab("sv4", vms=1) as lab:
            config = os.path.join(lab.workdir, "bad.toml")
            write(config, toml)
            result = lab.exec("host1", [VMQD, "--config", config, "--socket", os.path.join(lab.workdir, "s"),
                                        "--state-dir", os.path.join(lab.workdir, "state")], check=False)
            self.assertEqual(result.returncode, status, result.stderr)
            self.assertRegex(result.stderr, pattern)
            self.assertEqual(lab.xdp_program_id(), 0)

    def test_a_bad_value_names_the_file_and_the_key(self):
        self.check_refused('uplinks = ["uplink0"]\nmax_queues = 0\n',
                           r"bad\.toml: key 'max_queues': must be between 1 and 4095 \(got 0\)")

    def test_an_unknown_key_is_refused(self):
        self.check_refused('uplinks = ["uplink0"]\nmax_queue = 8\n', r"bad\.toml: key 'max_queue': unknown key")

    def test_a_syntax_error_names_line_and_column(self):
        self.check_refused('uplinks = ["uplink0"\n', r"bad\.toml:\d+:\d+: ")

    def test_a_missing_uplink_is_refused(self):
        self.check_refused('uplinks = ["nosuch0"]\n', r"uplink nosuch0: network device nosuch0 does not exist",
                           status=1)

    def test_check_config(self):
        with Lab("sv5", vms=1) as lab:
            config = os.path.join(lab.workdir, "good.toml")
            write(config, 'uplinks = ["uplink0"]\ncpus = "0-1"\n')
            self.assertEqual(run([VMQD, "--config", config, "--check-config"]).returncode, 0)


@require_root
class Persistence(unittest.TestCase):
    def test_queues_and_filters_come_back_after_a_restart(self):
        with Lab("sv6", vms=2) as lab:
            agent = Agent(lab).start()
            agent.add_queue("vm1", 1, vlan=100, mode="access")
            agent.add_queue("vm2", 2, cpu=1)
            agent.json("filter", "add", "vm2", "--mac", "52:54:00:77:00:99", "--vlan", "7")
            agent.json("queue", "pause", "vm2")
            before = agent.json("queue", "list")
            self.assertEqual(agent.stop(), 0)

            agent = Agent(lab, state_dir=agent.state_dir).start()
            try:
                after = agent.json("queue", "list")
                def shape(queues):
                    return [(q["id"], q["name"], q["vm"], q["cpu"], q["vlan_mode"], q["state"],
                             [(f["id"], f["mac"], f["vlan"]) for f in q["filters"]]) for q in queues["queues"]]
                self.assertEqual(shape(after), shape(before))
                receiver = lab.receiver("vm1", seconds=10, expect=300, listen_udp=None)
                lab.send(dst_vm=1, vlans=[100], count=300, rate=3000, flow=1)
                self.assertEqual(receiver.result()["flows"]["1"]["by_vlan"], {"untagged": 300})
                self.assertEqual(agent.queue("vm1")["counters"]["classified"]["packets"], 300)
            finally:
                agent.stop()

    def test_every_change_is_saved_atomically(self):
        with Lab("sv7", vms=1) as lab, Agent(lab) as agent:
            state = os.path.join(agent.state_dir, "state.json")
            agent.add_queue("vm1", 1)
            for args in (("filter", "add", "vm1", "--mac", "52:54:00:77:00:42", "--vlan", "9"),
                         ("queue", "set", "vm1", "--name", "web1"), ("queue", "del", "web1")):
                agent.json(*args)
                with open(state) as f:
                    json.load(f)  # complete after every change
                self.assertFalse(os.path.exists(state + ".tmp"))
            with open(state) as f:
                self.assertEqual(json.load(f)["queues"], [])

    def check_state_refused(self, content, pattern):
        with Lab("sv8", vms=1) as lab:
            agent = Agent(lab)
            os.makedirs(agent.state_dir)
            state = os.path.join(agent.state_dir, "state.json")
            write(state, content)
            with self.assertRaises(AssertionError):
                agent.start()
            self.assertNotEqual(agent.process.returncode, 0)
            self.assertRegex(agent.log_text(), pattern)
            with open(state) as f:
                self.assertEqual(f.read(), content, "the state file was modified")
            self.assertEqual(lab.xdp_program_id(), 0)

    def test_a_corrupt_state_file_is_refused_and_left_untouched(self):
        self.check_state_refused('{"format": "vmq-state", "version": 1, "queues": [{"id": 1, "na',
                                 r"state file .*state\.json: not valid JSON .*left untouched")

    def test_a_state_file_from_a_newer_vmqd_is_refused(self):
        self.check_state_refused('{"format": "vmq-state", "version": 3, "queues": []}\n',
                                 r"written by a newer vmqd \(format 3")


@require_root
class FailOpen(unittest.TestCase):
    def test_sigkill_mid_stream_vm_keeps_receiving_and_restart_restores_the_queue(self):
        with Lab("sv9", vms=1) as lab:
            agent = Agent(lab).start()
            agent.add_queue("vm1", 1)
            receiver = lab.receiver("vm1", seconds=30, expect=30000, idle_exit=3)
            sender = lab.send(dst_vm=1, count=30000, rate=5000, flow=1, background=True)
            # Mid-stream: a second of it went through the queue and the sender is still sending.
            before_kill = wait_for("5,000 frames of the stream through vm1's queue",
                                   lambda: agent.queue("vm1")["counters"]["classified"]["packets"],
                                   lambda classified: classified >= 5000, timeout=20, interval=0.25)
            self.assertGreater(before_kill, 0, "traffic did not go through the queue before the kill")
            self.assertIsNone(sender.process.poll(), "the stream ended before the kill")
            agent.stop(signal.SIGKILL)
            self.assertEqual(lab.xdp_program_id(), 0, "a dead vmqd left its classifier attached")
            sender.wait(timeout=30)
            flow = receiver.result()["flows"]["1"]
            # Frames after the kill arrived through the bridge, up to the last one;
            # only what was inside vmqd's rings at the kill can be missing.
            self.assertEqual(flow["last_seq"], 29999)
            self.assertLessEqual(flow["gaps"]["missing"], 512 + 64, flow["gaps"])

            agent = Agent(lab, state_dir=agent.state_dir).start()
            try:
                self.assertEqual(agent.queue("vm1")["state"], "running")
                receiver = lab.receiver("vm1", seconds=10, expect=1000)
                lab.send(dst_vm=1, count=1000, rate=5000, flow=2)
                self.assertEqual(receiver.result()["flows"]["2"]["unique"], 1000)
                self.assertEqual(agent.queue("vm1")["counters"]["classified"]["packets"], 1000)
            finally:
                agent.stop()


@require_root
class Coexistence(unittest.TestCase):
    def attach_foreign(self, lab, force=False):
        cmd = ["ip"] + (["-force"] if force else []) + ["link", "set", "dev", "uplink0", "xdpdrv", "obj",
                                                        FOREIGN_XDP, "sec", "xdp"]
        return lab.exec("host1", cmd, check=False)

    def test_vmqd_never_replaces_a_program_it_does_not_own(self):
        with Lab("sv10", vms=1) as lab:
            self.assertEqual(self.attach_foreign(lab).returncode, 0)
            foreign = lab.xdp_program_id()
            agent = Agent(lab)
            with self.assertRaises(AssertionError):
                agent.start()
            log = agent.log_text()
            self.assertRegex(log, r"uplink uplink0: XDP program 'foreign_pass' \(id %d\) is already attached" % foreign)
            self.assertIn("xdp-loader unload uplink0 --all", log)
            self.assertEqual(lab.xdp_program_id(), foreign, "vmqd replaced the foreign program")

    def test_other_tools_cannot_replace_the_classifier_unnoticed(self):
        with Lab("sv11", vms=1) as lab, Agent(lab) as agent:
            agent.add_queue("vm1", 1)
            uplink = agent.json("status")["uplinks"][0]
            ours = lab.xdp_program_id()
            if uplink["attach_method"] == "libxdp-dispatcher":
                # Where the dispatcher works, another program runs beside ours.
                run(["ip", "netns", "exec", lab.ns("host1"), "xdp-loader", "load", "uplink0", FOREIGN_XDP])
            else:
                self.assertEqual(uplink["attach_method"], "bpf-link")
                # Without it, the kernel refuses every attempt to replace a bpf_link.
                self.assertNotEqual(self.attach_foreign(lab).returncode, 0)
                self.assertNotEqual(self.attach_foreign(lab, force=True).returncode, 0)
                result = lab.exec("host1", ["xdp-loader", "load", "-m", "native", "uplink0", FOREIGN_XDP], check=False)
                self.assertNotEqual(result.returncode, 0, result.stdout + result.stderr)
                self.assertEqual(lab.xdp_program_id(), ours)
            receiver = lab.receiver("vm1", seconds=10, expect=200)
            lab.send(dst_vm=1, count=200, rate=2000, flow=1)
            self.assertEqual(receiver.result()["flows"]["1"]["unique"], 200)
            self.assertEqual(agent.queue("vm1")["counters"]["classified"]["packets"], 200)
            self.assertFalse(agent.json("status")["uplinks"][0]["degraded"])

    def test_a_replaced_netlink_attachment_is_reported_within_seconds(self):
        with Lab("sv12", vms=1) as lab, Agent(lab, extra_args=["--xdp-attach", "netlink"]) as agent:
            self.assertEqual(agent.json("status")["uplinks"][0]["attach_method"], "netlink")
            self.assertEqual(self.attach_foreign(lab, force=True).returncode, 0)
            foreign = lab.xdp_program_id()
            uplink = wait_for("uplink0 to be reported degraded", lambda: agent.json("status")["uplinks"][0],
                              lambda u: u["degraded"], timeout=5)
            self.assertIn("XDP program %d replaced the classifier" % foreign, uplink["degraded_reason"])
            self.assertIn("uplink uplink0 degraded", agent.log_text())


if __name__ == "__main__":
    unittest.main()
