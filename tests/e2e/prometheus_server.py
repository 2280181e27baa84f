"""Debian's Prometheus server (package `prometheus`) for the labs: one instance per test,
scraping given targets every second, queried through its HTTP API.

It owns a temporary directory (its prometheus.yml, its TSDB with a short retention, its log
and its pid file), named like the lab's so lab.sweep_stale removes it after a killed run;
it listens on a free loopback port of the namespace it runs in and is stopped by its pid.
Use as a context manager; stop() is also safe to call twice.

Measured here (Debian 12, prometheus 2.42): ready ~0.1 s after exec, ~45 MB resident; the
first scrape comes ~5 s after start (the discovery manager's update interval), so tests wait
for `up` rather than sleep."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from lab import DRIVER_CPU, NS_PREFIX, sh, wait_until

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
FREE_PORT = "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"


class PrometheusServer:
    def __init__(self, lab, targets, netns=None, scrape_interval="1s", job="dplb"):
        """targets: ["127.0.0.1:9469", ...] scraped as job `job`; netns: the namespace it
        runs in (the targets' loopback must be that namespace's), None for the root one."""
        self.lab, self.targets, self.netns, self.job = lab, list(targets), netns, job
        self.scrape_interval = scrape_interval
        self.process = None
        self.dir = Path(tempfile.mkdtemp(prefix=f"{NS_PREFIX}{os.getpid()}x-prometheus-"))
        self.pid_file = self.dir / "prometheus.pid"
        self.port = None

    # ----- lifetime ------------------------------------------------------------------------
    def _in_ns(self, argv):
        prefix = ["ip", "netns", "exec", self.netns] if self.netns else []
        return [*prefix, "taskset", "-c", str(DRIVER_CPU), *map(str, argv)]

    def start(self, timeout=30):
        if not Path(PROMETHEUS).exists():
            raise RuntimeError(f"{PROMETHEUS} missing: apt-get install prometheus (tools/bootstrap)")
        config = self.dir / "prometheus.yml"
        config.write_text(
            "global:\n"
            f"  scrape_interval: {self.scrape_interval}\n"
            f"  scrape_timeout: {self.scrape_interval}\n"
            f"  evaluation_interval: {self.scrape_interval}\n"
            "scrape_configs:\n"
            f"  - job_name: {self.job}\n"
            "    static_configs:\n"
            f"      - targets: [{', '.join(repr(t) for t in self.targets)}]\n")
        check = sh(PROMTOOL, "check", "config", config, check=False)
        if check.returncode != 0:
            raise RuntimeError(f"promtool check config:\n{check.stdout}{check.stderr}")
        self.port = int(sh(*self._in_ns(["/usr/bin/python3", "-c", FREE_PORT])).stdout)
        argv = [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={self.dir / 'data'}",
                "--storage.tsdb.retention.time=1h", f"--web.listen-address=127.0.0.1:{self.port}",
                "--query.max-concurrency=2", "--log.level=warn"]
        # One OS thread for Go's scheduler: the lab's machine has two cores and the dataplane
        # owns one of them.
        env_argv = ["env", "GOMAXPROCS=1", *argv]
        log = open(self.dir / "prometheus.log", "ab")
        self.process = subprocess.Popen(self._in_ns(env_argv), stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        # ip netns exec, taskset and env exec: the pid is Prometheus's own.
        self.pid_file.write_text(f"{self.process.pid}\n")
        started = time.monotonic()
        try:
            wait_until(lambda: self.process.poll() is not None or self._ready(), timeout, "Prometheus ready")
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited {self.process.returncode}:\n{self.log()}")
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def stop(self):
        """Kills Prometheus by its pid (SIGTERM, then SIGKILL) and removes its directory."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def log(self):
        path = self.dir / "prometheus.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # ----- HTTP API ------------------------------------------------------------------------
    def _ready(self):
        try:
            return self.get_raw("/-/ready").startswith("Prometheus Server is Ready")
        except (subprocess.CalledProcessError, OSError):
            return False

    def get_raw(self, path, params=None):
        url = f"http://127.0.0.1:{self.port}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params, doseq=True)
        if self.netns is None:
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.read().decode()
        # The server listens on the namespace's loopback: ask from inside it.
        return sh(*self._in_ns(["curl", "-sS", "--fail-with-body", "-m", "10", url]), timeout=15).stdout

    def get(self, path, params=None):
        """GET of an API path, its `data` (raises with Prometheus's error otherwise)."""
        try:
            body = json.loads(self.get_raw(path, params))
        except subprocess.CalledProcessError as e:
            raise RuntimeError(f"GET {path} {params}: {e.stdout}{e.stderr}") from None
        if body.get("status") != "success":
            raise RuntimeError(f"GET {path} {params}: {body}")
        return body["data"]

    def query(self, expr, at=None):
        """An instant query: [(labels, float value), ...]."""
        params = {"query": expr, **({"time": f"{at:.3f}"} if at is not None else {})}
        data = self.get("/api/v1/query", params)
        if data["resultType"] == "scalar":
            return [({}, float(data["result"][1]))]
        return [(r["metric"], float(r["value"][1])) for r in data["result"]]

    def query_range(self, expr, start, end, step):
        """[(labels, [(t, value), ...]), ...]"""
        data = self.get("/api/v1/query_range",
                        {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step}"})
        return [(r["metric"], [(float(t), float(v)) for t, v in r["values"]]) for r in data["result"]]

    def label_values(self, label, match):
        """What Grafana's label_values(match, label) lists."""
        return self.get(f"/api/v1/label/{label}/values", {"match[]": match})

    def wait_scraped(self, timeout=30):
        """Until the first scrape of every target succeeded (`up` is 1 for each)."""
        def all_up():
            up = self.query(f'up{{job="{self.job}"}}')
            return len(up) == len(self.targets) and all(v == 1 for _, v in up)
        wait_until(all_up, timeout, f"Prometheus to scrape {self.targets}", interval=0.25)
