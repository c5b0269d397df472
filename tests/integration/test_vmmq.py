"""VMMQ (issue 13): one VM's queue with two sub-queues, each on its own CPU.
The classifier spreads the VM's flows over them by a flow hash; every flow
stays in order, both sub-queues and both CPUs carry traffic, and the VM's
applications receive every datagram sent. Bad sub-queue requests are refused
with nothing created, and a migration document carries the count."""
import os
import unittest

from vmqlab import App, Agent, Lab, require_root

FLOWS = 8
PER_FLOW = 1500
RATE = 8000  # frames per second, all flows together: the sender sleeps between frames


def add_wide_queue(agent, name, vm, cpus):
    """queue add with --cpus; returns vmqctl's (status, stdout, stderr)."""
    return agent.vmqctl("--json", "queue", "add", name, "--uplink", "uplink0", "--port", "vm%dport" % vm,
                        "--mac", "52:54:00:77:00:%02x" % vm, "--untagged", "--cpus", cpus)


@require_root
class SubQueues(unittest.TestCase):
    def test_flows_spread_over_two_sub_queues_on_two_cpus_in_order_and_the_vm_gets_them_all(self):
        total = FLOWS * PER_FLOW
        with Lab("vq1", vms=1, port_queues=2) as lab:
            with Agent(lab) as agent:
                status, out, err = add_wide_queue(agent, "vm1", 1, "2")
                self.assertEqual(status, 0, err)
                queue = agent.queue("vm1")
                self.assertEqual(sorted(s["cpu"] for s in queue["sub_queues"]), [0, 1])
                self.assertEqual(queue["cpu_mode"], "pinned")

                app = App(lab, "vm1", "udp-recv", "--port", 9, "--count", total, "--seconds", 60, "--idle", 5,
                          listening=True)
                frames = lab.receiver("vm1", seconds=60, idle_exit=5, expect=total, listen_udp=None)
                sent = lab.send(dst_vm=1, count=total, rate=RATE, flows=FLOWS, size=200)
                self.assertEqual(sent["sent"], total, sent)
                seen = frames.result()
                got = app.result()

                # In order, per flow: a flow never changes sub-queue.
                self.assertEqual(len(seen["flows"]), FLOWS, seen)
                for flow, record in seen["flows"].items():
                    self.assertEqual(record["reordered"], 0, "flow %s reordered: %s" % (flow, record))
                    self.assertEqual(record["duplicates"], 0, "flow %s: %s" % (flow, record))
                    self.assertEqual(record["gaps"]["missing"], 0, "flow %s lost frames: %s" % (flow, record))
                self.assertEqual(seen["test_frames"], total)
                # What the VM's applications see: every datagram, on a kernel UDP socket.
                self.assertEqual(got["received"], total, got)

                queue = agent.queue("vm1")
                subs = queue["sub_queues"]
                received = [s["counters"]["received"] for s in subs]
                delivered = [s["counters"]["delivered"]["packets"] for s in subs]
                print("\n  2 sub-queues, %d flows: received per sub-queue %s, delivered %s (CPUs %s)" %
                      (FLOWS, received, delivered, [s["cpu"] for s in subs]), flush=True)
                self.assertTrue(all(r > 0 for r in received), "both sub-queues carry flows: %s" % received)
                self.assertEqual(sum(delivered), total)
                self.assertEqual(queue["counters"]["delivered"]["packets"], total, "the queue's counters are the sums")
                self.assertEqual(queue["counters"]["received"], sum(received))
                # Each sub-queue served by a worker on its own CPU.
                loads = {c["cpu"]: c["queues"] for c in agent.json("status")["cpus"]}
                self.assertEqual(loads, {0: 1, 1: 1})

    def test_bad_requests_are_refused_and_nothing_is_created(self):
        with Lab("vq2", vms=2, port_queues=2) as lab:
            # vm2's port has one queue: a second sub-queue has nowhere to deliver.
            lab.exec("host1", ["ip", "link", "del", "vm2port"])
            lab.exec("host1", ["ip", "link", "add", "vm2port", "type", "veth", "peer", "name", "vm2peer"])
            lab.exec("host1", ["ip", "link", "set", "vm2port", "up"])
            with Agent(lab) as agent:
                cases = [
                    ("3", "3 sub-queues need 3 CPUs, but only 2 are usable"),
                    ("0,0", "CPU 0 is given twice"),
                    ("0,7", "CPU 7 is not online"),
                    ("17", "17 sub-queues: a queue has 1 to 16"),
                    ("x", "--cpus"),
                ]
                for cpus, text in cases:
                    status, out, err = add_wide_queue(agent, "vm1", 1, cpus)
                    self.assertNotEqual(status, 0, cpus)
                    self.assertIn(text, out + err, cpus)
                status, out, err = agent.vmqctl("queue", "add", "vm1", "--uplink", "uplink0", "--port", "vm1port",
                                                "--mac", "52:54:00:77:00:01", "--cpus", "2", "--cpu", "1")
                self.assertNotEqual(status, 0)
                self.assertIn("excludes", err)
                status, out, err = add_wide_queue(agent, "vm2", 2, "2")
                self.assertNotEqual(status, 0)
                self.assertIn("needs a port with as many queues", out + err)
                self.assertEqual(agent.json("queue", "list")["queues"], [], "nothing was created")

    def test_a_migration_document_carries_the_sub_queue_count(self):
        with Lab("vq3", vms=1, port_queues=2) as lab:
            with Agent(lab) as agent:
                status, out, err = add_wide_queue(agent, "vm1", 1, "0,1")
                self.assertEqual(status, 0, err)
                document = os.path.join(lab.workdir, "vm1.json")
                drained = agent.json("migrate", "drain", "vm1", "--output", document)
                self.assertEqual(drained["document"]["queue"]["cpu_policy"]["sub_queues"], 2)
                status, out, err = agent.vmqctl("migrate", "restore", document, "--cpu", "1")
                self.assertNotEqual(status, 0)
                self.assertIn("each placed on a CPU of its own here", out + err)
                restored = agent.json("migrate", "restore", document)
                self.assertEqual(sorted(s["cpu"] for s in restored["queue"]["sub_queues"]), [0, 1])
                # The VM receives through both again.
                frames = lab.receiver("vm1", seconds=30, idle_exit=3, expect=400, listen_udp=9)
                lab.send(dst_vm=1, count=400, rate=4000, flows=8)
                self.assertEqual(frames.result()["test_frames"], 400)


if __name__ == "__main__":
    unittest.main()
