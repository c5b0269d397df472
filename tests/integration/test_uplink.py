"""vmqd notices when its uplink changes under it."""
import unittest

from vmqlab import Agent, Lab, require_root, wait_for


@require_root
class RxQueueCountChange(unittest.TestCase):
    def channels(self, lab, n):
        lab.exec("host1", ["ethtool", "-L", "uplink0", "rx", str(n), "tx", str(n)])

    def wait_for_uplink(self, agent, degraded):
        return wait_for("uplink0 degraded=%s" % degraded, lambda: agent.json("status")["uplinks"][0],
                        lambda uplink: uplink["degraded"] == degraded, timeout=5)

    def test_an_rx_queue_count_change_is_reported_and_its_undoing_too(self):
        with Lab("rxq1", rxqs=4, vms=1) as lab:
            self.channels(lab, 2)
            with Agent(lab) as agent:
                agent.add_queue("vm1", 1)
                uplink = agent.json("status")["uplinks"][0]
                self.assertEqual(uplink["rx_queues"], 2)
                self.assertFalse(uplink["degraded"])
                # More rx queues than the classifier and the UMEM were set up for: frames on
                # queues 2 and 3 would silently take the default queue.
                self.channels(lab, 4)
                uplink = self.wait_for_uplink(agent, True)
                self.assertIn("4 rx queues now, vmq was set up for 2", uplink["degraded_reason"])
                self.assertIn("frames on rx queues 2 to 3 go to the default queue", uplink["degraded_reason"])
                self.assertIn("uplink uplink0 degraded", agent.log_text())
                status, out, _ = agent.vmqctl("status")
                self.assertEqual(status, 0)
                self.assertIn("restart vmqd", out)
                # Back to what vmq was set up for: no longer degraded.
                self.channels(lab, 2)
                self.wait_for_uplink(agent, False)


if __name__ == "__main__":
    unittest.main()
