"""vmqd's /metrics: a real vmqd in the lab with metrics on, traffic through a
queue, a real Prometheus (Debian's package) scraping it, and the queue's
delivered counter read back through Prometheus's HTTP API equal to
`vmqctl --json`; `promtool check metrics` on vmqd's output; HTTP edge cases;
stalled clients; reload, SIGTERM and a port already taken.

vmqd and Prometheus both listen on 127.0.0.1 inside the lab's host namespace,
which the test made: nothing is reachable from outside it. Every request and
wait is bounded; Prometheus is killed and its files removed even on failure.
"""
import json
import os
import shutil
import subprocess
import time
import unittest
from urllib.parse import quote

from vmqlab import Agent, Lab, require_root, run, stop_process, wait_for

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
PYTHON = "/usr/bin/python3"
METRICS_PORT = 8497       # inside the lab's host namespace, which has nothing else listening
PROMETHEUS_PORT = 19090
EXPOSITION_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# An HTTP request made from inside a namespace: prints status, headers and body as JSON.
HTTP_CLIENT = r"""
import json, sys, urllib.request, urllib.error
method, url = sys.argv[1], sys.argv[2]
try:
    with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10) as r:
        status, headers, body = r.status, dict(r.headers), r.read().decode()
except urllib.error.HTTPError as e:
    status, headers, body = e.code, dict(e.headers), e.read().decode()
except OSError as e:
    status, headers, body = 0, {}, str(e)
print(json.dumps({"status": status, "headers": headers, "body": body}))
"""

# A client that sends half a request and then says nothing for `seconds`.
STALLED_CLIENT = r"""
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET /metr")
print("stalled", flush=True)
time.sleep(float(sys.argv[2]))
"""

# Holds a TCP port in the namespace until killed.
PORT_HOLDER = r"""
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
print("holding", flush=True)
time.sleep(120)
"""


def report(text):
    print("\n  " + text, flush=True)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def stop(process):
    """Kills a helper process (if it still runs) and closes its pipes."""
    if process.poll() is None:
        process.kill()
    process.communicate(timeout=10)


def http(lab, method, url, host="host1"):
    return json.loads(lab.exec(host, [PYTHON, "-c", HTTP_CLIENT, method, url], timeout=30).stdout)


def metrics_url(port=METRICS_PORT):
    return "http://127.0.0.1:%d/metrics" % port


def sample(text, name, **labels):
    """The value of one series in an exposition, or None when it is absent."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        series, value = line.rsplit(" ", 1)
        if series.split("{")[0] != name:
            continue
        if all('%s="%s"' % (k, v) in series for k, v in labels.items()):
            return float(value)
    return None


class Prometheus:
    """A Prometheus server in a namespace, scraping vmqd every second, with
    its configuration and storage in a temporary directory."""

    def __init__(self, lab, target, host="host1"):
        self.lab, self.host = lab, host
        self.dir = os.path.join(lab.workdir, "prometheus")
        os.makedirs(self.dir, exist_ok=True)
        self.config = os.path.join(self.dir, "prometheus.yml")
        write(self.config, "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
                           "scrape_configs:\n  - job_name: vmqd\n    static_configs:\n"
                           "      - targets: ['%s']\n" % target)
        self.url = "http://127.0.0.1:%d" % PROMETHEUS_PORT
        self.log_path = os.path.join(self.dir, "prometheus.log")
        self.process = None

    def __enter__(self):
        run([PROMTOOL, "check", "config", self.config])
        self.log = open(self.log_path, "w")
        self.process = self.lab.popen(self.host, [
            PROMETHEUS, "--config.file=" + self.config, "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
            "--web.listen-address=127.0.0.1:%d" % PROMETHEUS_PORT, "--log.level=warn"],
            stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_for("Prometheus ready", lambda: self._poll_ready(), lambda ready: ready, timeout=60, interval=0.5)
        except BaseException:
            self.__exit__()
            raise
        return self

    def _poll_ready(self):
        if self.process.poll() is not None:
            raise AssertionError("prometheus exited (%d):\n%s" % (self.process.returncode, self.log_text()))
        return http(self.lab, "GET", self.url + "/-/ready", self.host)["status"] == 200

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def query(self, expression):
        """An instant query's result: a list of {metric, value}."""
        url = self.url + "/api/v1/query?query=" + quote(expression, safe="")
        reply = http(self.lab, "GET", url, self.host)
        if reply["status"] != 200:
            raise AssertionError("query %s: HTTP %d %s" % (expression, reply["status"], reply["body"]))
        body = json.loads(reply["body"])
        if body.get("status") != "success":
            raise AssertionError("query %s: %s" % (expression, body))
        return body["data"]["result"]

    def value(self, expression):
        """The single value of an instant query, or None when it has no result."""
        result = self.query(expression)
        if not result:
            return None
        if len(result) != 1:
            raise AssertionError("query %s gave %d series: %s" % (expression, len(result), result))
        return float(result[0]["value"][1])

    def __exit__(self, *exc):
        if self.process:
            stop_process(self.process)
        if getattr(self, "log", None):
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


def metrics_config(lab, listen):
    path = os.path.join(lab.workdir, "vmqd.toml")
    write(path, 'metrics_listen = "%s"\n' % listen)
    return path


@unittest.skipUnless(os.path.exists(PROMETHEUS) and os.path.exists(PROMTOOL),
                     "needs Debian's prometheus package (prometheus, promtool): deploy/install-deps.sh installs it")
@require_root
class PrometheusScrapesVmqd(unittest.TestCase):
    def test_delivered_counter_through_prometheus_equals_vmqctl_json_and_promtool_passes(self):
        frames = 3000
        with Lab("mt1", vms=1) as lab:
            config = metrics_config(lab, "127.0.0.1:%d" % METRICS_PORT)
            with Agent(lab, config=config) as agent:
                self.assertIn("metrics: serving http://127.0.0.1:%d/metrics" % METRICS_PORT, agent.log_text())
                agent.add_queue("vm1", 1)
                sent = lab.send(dst_vm=1, count=frames, rate=20000, flow=1)
                self.assertEqual(sent["sent"], frames)
                agent.wait_quiet(["vm1"])
                counters = agent.queue("vm1")["counters"]
                # The stream, and whatever else the wire sent vm1 meanwhile (an ARP exchange's reply).
                self.assertGreaterEqual(counters["delivered"]["packets"], frames, counters)

                # vmqd's own answer: the exposition's content type, promtool finds nothing to say.
                reply = http(lab, "GET", metrics_url())
                self.assertEqual(reply["status"], 200, reply)
                self.assertEqual(reply["headers"]["Content-Type"], EXPOSITION_TYPE)
                text = reply["body"]
                check = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True,
                                       timeout=30)
                self.assertEqual((check.returncode, check.stdout + check.stderr), (0, ""),
                                 "promtool check metrics found problems in vmqd's exposition")

                # The exposition and vmqctl --json read the same counters.
                stats = agent.stats()
                queue = next(q for q in stats["queues"] if q["name"] == "vm1")["counters"]
                labels = {"queue": "vm1", "vm": "vm1", "uplink": "uplink0"}
                for name, value in [("vmq_queue_delivered_frames_total", queue["delivered"]["packets"]),
                                    ("vmq_queue_delivered_bytes_total", queue["delivered"]["bytes"]),
                                    ("vmq_queue_classified_frames_total", queue["classified"]["packets"]),
                                    ("vmq_queue_received_frames_total", queue["received"]),
                                    ("vmq_queue_checksum_completed_frames_total", queue["checksum_completed"]),
                                    ("vmq_queue_in_flight_frames", queue["in_flight"])]:
                    self.assertEqual(sample(text, name, **labels), value, name)
                self.assertEqual(sample(text, "vmq_queue_dropped_frames_total", reason="quota", **labels),
                                 queue["dropped"]["quota"])
                uplink = stats["uplinks"][0]
                for reason, traffic in uplink["default_queue"].items():
                    if reason != "total":
                        self.assertEqual(sample(text, "vmq_default_queue_frames_total", uplink="uplink0",
                                                reason=reason), traffic["packets"], reason)
                self.assertEqual(sample(text, "vmq_umem_frames", uplink="uplink0"), uplink["umem"]["frames_total"])
                status = agent.json("status")["uplinks"][0]
                self.assertEqual(sample(text, "vmq_classifier_info", uplink="uplink0",
                                        build=status["classifier_build"], attach_mode=status["attach_mode"],
                                        attach_method=status["attach_method"]), 1)
                self.assertEqual(sample(text, "vmq_uplink_degraded", uplink="uplink0"), 0)
                self.assertEqual(sample(text, "vmq_queue_state", state="running", **labels), 1)
                self.assertEqual(sample(text, "vmq_queue_counters_readable", **labels), 1)
                self.assertEqual(sample(text, "vmq_build_info", version=agent.json("status")["version"]), 1)

                # A real Prometheus scrapes vmqd and reads the same number back.
                with Prometheus(lab, "127.0.0.1:%d" % METRICS_PORT) as prometheus:
                    wait_for("Prometheus to scrape vmqd", lambda: prometheus.value('up{job="vmqd"}'),
                             lambda up: up == 1, timeout=30, interval=0.5)
                    expression = 'vmq_queue_delivered_frames_total{queue="vm1",vm="vm1",uplink="uplink0"}'
                    through_prometheus = wait_for("the delivered counter in Prometheus",
                                                  lambda: prometheus.value(expression),
                                                  lambda v: v is not None, timeout=30, interval=0.5)
                    json_delivered = agent.queue("vm1")["counters"]["delivered"]["packets"]
                    self.assertEqual(through_prometheus, json_delivered)
                    self.assertEqual(prometheus.value("vmq_queues"), 1)
                    report("vmq_queue_delivered_frames_total through Prometheus = %d = vmqctl --json delivered; "
                           "exposition %d bytes, %d series" % (through_prometheus, len(text),
                                                               sum(1 for l in text.splitlines()
                                                                   if not l.startswith("#"))))
                self.assertEqual(agent.stop(), 0)

    def test_http_edges_stalled_clients_migration_reload_and_stop(self):
        with Lab("mt2", vms=1) as lab:
            config = metrics_config(lab, "127.0.0.1:%d" % METRICS_PORT)
            with Agent(lab, config=config) as agent:
                agent.add_queue("vm1", 1)
                # 404 and 405, with Allow.
                self.assertEqual(http(lab, "GET", "http://127.0.0.1:%d/" % METRICS_PORT)["status"], 404)
                self.assertEqual(http(lab, "GET", "http://127.0.0.1:%d/metricsx" % METRICS_PORT)["status"], 404)
                for method in ("POST", "PUT", "DELETE"):
                    reply = http(lab, method, metrics_url())
                    self.assertEqual(reply["status"], 405, method)
                    self.assertEqual(reply["headers"].get("Allow"), "GET, HEAD", method)
                head = http(lab, "HEAD", metrics_url())
                self.assertEqual((head["status"], head["body"]), (200, ""))

                # Clients that stall mid-request hold up neither scrapes nor the control socket.
                stalled = [lab.popen("host1", [PYTHON, "-c", STALLED_CLIENT, str(METRICS_PORT), "15"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
                try:
                    for s in stalled:
                        self.assertEqual(s.stdout.readline().strip(), "stalled", s.stderr.read() if s.poll() else "")
                    start = time.monotonic()
                    self.assertEqual(agent.json("status")["queues"], 1)
                    reply = http(lab, "GET", metrics_url())
                    elapsed = time.monotonic() - start
                    self.assertEqual(reply["status"], 200)
                    self.assertLess(elapsed, 5, "a control request and a scrape took %.1f s beside stalled clients"
                                    % elapsed)
                finally:
                    for s in stalled:
                        stop(s)

                # Migration: a drain and a restore are counted, with the drain's duration from vmqctl --json.
                document = os.path.join(lab.workdir, "vm1.json")
                drained = agent.json("migrate", "drain", "vm1", "--output", document)
                agent.json("migrate", "restore", document)
                text = http(lab, "GET", metrics_url())["body"]
                self.assertEqual(sample(text, "vmq_migration_drain_duration_seconds_count"), 1)
                self.assertAlmostEqual(sample(text, "vmq_migration_drain_duration_seconds_sum"),
                                       drained["drain_us"] / 1e6, places=6)
                self.assertEqual(sample(text, "vmq_migration_restore_duration_seconds_count"), 1)

                # A reload moves /metrics to the new address; the old one closes.
                write(config, 'metrics_listen = "127.0.0.1:%d"\n' % (METRICS_PORT + 1))
                agent.reload()
                self.assertEqual(http(lab, "GET", metrics_url(METRICS_PORT + 1))["status"], 200)
                self.assertEqual(http(lab, "GET", metrics_url())["status"], 0, "the old address still answers")
                # A bad address is refused by the reload, which keeps the running one.
                write(config, 'metrics_listen = "localhost:80"\n')
                agent.reload()
                self.assertRegex(agent.log_text(), r"reload refused.*key 'metrics_listen': 'localhost:80': 'localhost' "
                                                   r"is not an IP address")
                self.assertEqual(http(lab, "GET", metrics_url(METRICS_PORT + 1))["status"], 200)

                # SIGTERM closes the endpoint with everything else.
                self.assertEqual(agent.stop(), 0)
                self.assertEqual(http(lab, "GET", metrics_url(METRICS_PORT + 1))["status"], 0)

    def test_a_taken_port_does_not_stop_vmqd_and_metrics_come_once_it_is_free(self):
        with Lab("mt3", vms=1) as lab:
            holder = lab.popen("host1", [PYTHON, "-c", PORT_HOLDER, str(METRICS_PORT)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
            try:
                self.assertEqual(holder.stdout.readline().strip(), "holding")
                config = metrics_config(lab, "127.0.0.1:%d" % METRICS_PORT)
                with Agent(lab, config=config) as agent:  # READY despite the port
                    self.assertRegex(agent.log_text(), r"metrics: listening on 127\.0\.0\.1:%d: .*[Aa]ddress already "
                                                       r"in use; vmqd runs on without /metrics" % METRICS_PORT)
                    agent.add_queue("vm1", 1)
                    stop(holder)
                    # vmqd tries again every 10 s.
                    reply = wait_for("/metrics once the port is free", lambda: http(lab, "GET", metrics_url()),
                                     lambda r: r["status"] == 200, timeout=25, interval=0.5)
                    self.assertEqual(sample(reply["body"], "vmq_queues"), 1)
                    self.assertEqual(agent.stop(), 0)
            finally:
                stop(holder)


@require_root
class MetricsOff(unittest.TestCase):
    def test_off_by_default(self):
        with Lab("mt4", vms=1) as lab, Agent(lab) as agent:
            self.assertNotIn("metrics: serving", agent.log_text())
            listening = lab.exec("host1", ["ss", "-Htln"]).stdout
            self.assertEqual(listening.strip(), "", "vmqd listens on TCP without metrics_listen: %s" % listening)
            self.assertEqual(agent.stop(), 0)


if __name__ == "__main__":
    unittest.main()
