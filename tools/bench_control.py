"""Suite 3 of tools/bench: how fast a configuration change goes live (issue 10's targets).

A configuration of N services x 8 real servers is restored with `dplbadm -R` into dplb
(dataplane + dplb-control, one worker over memif), then, with the worker idle (sleep mode,
no traffic: on this 2-core machine a busy worker and the generator leave the control path
no CPU of its own):
  - one real-server change (weight, add, delete), each run many times, timed two ways: the
    `dplbadm` process as an operator runs it, and the request alone on the control socket
    (what a health checker or script pays); both return once every worker runs the change;
  - 1,000 weight flips from 10 concurrent clients on the control socket: rate and latency;
  - `dplbadm --set` of the global timeouts;
  - the dataplane's memory for the configuration (RSS growth, per service);
  - the cost of a Prometheus scrape of dplb-control's /metrics (issue 13: < 100 ms at 10,000
    services), on that table and on 10,000 services x 2 real servers;
then the same single changes while suite 2's FULLNAT traffic runs (busy worker), with the
packets dplb dropped.

Every figure is measured here; nothing is assumed.
"""
import json
import os
import socket
import statistics
import subprocess
import threading
import time
from pathlib import Path

import bench_pmd

REALS_PER_SERVICE = 8


def percentile(values, p):
    v = sorted(values)
    if not v:
        return None
    k = min(len(v) - 1, max(0, int(round(p / 100 * (len(v) - 1)))))
    return v[k]


def summary_ms(values):
    return {"n": len(values), "p50_ms": round(percentile(values, 50) * 1000, 3),
            "p99_ms": round(percentile(values, 99) * 1000, 3), "max_ms": round(max(values) * 1000, 3),
            "mean_ms": round(statistics.mean(values) * 1000, 3)}


def vip_of(s):
    return f"10.{100 + s // 65536}.{(s // 256) % 256}.{s % 256}"


def real_of(s, r):
    return f"10.0.{2 + r}.{1 + s % 250}"


def restore_file(services, scheduler, reals=REALS_PER_SERVICE):
    lines = []
    for s in range(services):
        lines.append(f"-A -t {vip_of(s)}:80 -s {scheduler}")
        for r in range(reals):
            lines.append(f"-a -t {vip_of(s)}:80 -r {real_of(s, r)}:8080 -m -w 1")
    return "\n".join(lines) + "\n"


class ControlClient:
    """One connection to dplb-control's socket (JSON lines), as a script or checker uses it."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.f = self.s.makefile("rb")

    def call(self, request):
        self.s.sendall(json.dumps(request, separators=(",", ":")).encode() + b"\n")
        reply = json.loads(self.f.readline())
        if not reply.get("ok"):
            raise RuntimeError(f"{request['cmd']}: {reply}")
        return reply

    def close(self):
        self.f.close()
        self.s.close()


def edit_weight(s, r, w):
    return {"cmd": "edit-real", "service": {"protocol": "tcp", "address": vip_of(s), "port": 80},
            "real_server": {"address": real_of(s, r), "port": 8080, "weight": w}}


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run_dplbadm(h, argv):
    """dplbadm as an operator runs it: the process alone (this process is pinned to the driver
    CPU, so no `taskset` exec is timed with it)."""
    r = subprocess.run([str(h.build / "tools/dplbadm/dplbadm"), "--socket", h.control_sock, *argv],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"dplbadm {' '.join(argv)}: {r.stderr.strip()}")


def single_changes(h, services, rounds, adm_rounds):
    """Weight edits, adds and deletes of real servers, spread over the table."""
    out = {}
    client = ControlClient(h.control_sock)
    try:
        for what in ("weight", "add", "delete"):
            sock_times, adm_times = [], []
            for i in range(rounds + adm_rounds):
                s = (i * 7919) % services
                svc = {"protocol": "tcp", "address": vip_of(s), "port": 80}
                extra = {"address": f"10.1.{i // 250 % 250}.{1 + i % 250}", "port": 8080}
                if what == "weight":
                    req, argv = edit_weight(s, i % REALS_PER_SERVICE, 2 + i % 5), \
                        ["-e", "-t", f"{vip_of(s)}:80", "-r", f"{real_of(s, i % REALS_PER_SERVICE)}:8080", "-m",
                         "-w", str(2 + i % 5)]
                elif what == "add":
                    req = {"cmd": "add-real", "service": svc, "real_server": dict(extra, forward="nat")}
                    argv = ["-a", "-t", f"{vip_of(s)}:80", "-r", f"{extra['address']}:8080", "-m"]
                else:
                    req = {"cmd": "delete-real", "service": svc, "real_server": extra}
                    argv = ["-d", "-t", f"{vip_of(s)}:80", "-r", f"{extra['address']}:8080"]
                if i < rounds:
                    sock_times.append(timed(lambda: client.call(req)))
                else:
                    adm_times.append(timed(lambda: run_dplbadm(h, argv)))
            out[what] = {"socket": summary_ms(sock_times), "dplbadm": summary_ms(adm_times)}
    finally:
        client.close()
    return out


def concurrent_flips(h, services, clients, total):
    per = total // clients
    latencies, errors = [], []
    lock = threading.Lock()

    def run(c):
        cl = ControlClient(h.control_sock)
        mine = []
        try:
            for i in range(per):
                s = (c * 1009 + i * 31) % services
                mine.append(timed(lambda: cl.call(edit_weight(s, (c + i) % REALS_PER_SERVICE, 1 + (i % 2)))))
        except Exception as e:  # noqa: BLE001 - reported, not swallowed
            errors.append(str(e))
        finally:
            cl.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run, args=(c,)) for c in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    return {"clients": clients, "flips": len(latencies), "errors": errors[:3], "seconds": round(elapsed, 3),
            "flips_per_second": round(len(latencies) / elapsed, 1), **summary_ms(latencies)}


def scrapes(h, n):
    """n GETs of /metrics as a scraper pays them, one after the other, timed by curl (a C
    client, as Prometheus' Go one: Python's http.client would add its own reading time):
    connect -> last byte read, the body discarded (writing 27 MB to a file costs the client
    tens of ms). The first scrape is left out of the figures (it also pays the first touch of
    the page's memory) but reported. p50/p99, the page's size (one more scrape, kept)."""
    times = []
    for _ in range(n + 1):
        r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{time_total}", h.metrics_url],
                           capture_output=True, text=True, timeout=60, check=True)
        times.append(float(r.stdout))
    subprocess.run(["curl", "-sS", "-o", h.tmp / "scrape.txt", h.metrics_url], timeout=60, check=True)
    body = (h.tmp / "scrape.txt").read_bytes()
    samples = sum(1 for line in body.split(b"\n") if line and not line.startswith(b"#"))
    return {**summary_ms(times[1:]), "first_ms": round(times[0] * 1000, 3), "bytes": len(body), "samples": samples}


def scrape_cost(build, services, reals, n, progress):
    """/metrics of a table of `services` x `reals` (rr), worker idle."""
    with bench_pmd.Harness(build, 256) as h:
        h.start_generator()
        h.start_dplb(max_services=16384, idle="sleep")
        progress(f"control: /metrics of {services} services x {reals}")
        h.adm("-R", input=restore_file(services, "rr", reals))
        return {"suite": "control", "what": "scrape", "services": services, "reals_per_service": reals,
                **scrapes(h, n)}


def dataplane_pid(h):
    for p in h.procs:
        if "dplb-dataplane" in " ".join(map(str, p.args)):
            return p.pid
    return None


def suite(build, smoke, progress, check):
    # The driver CPU (bench_pmd.Harness's default, "0"), so that dplbadm runs there without
    # a timed `taskset`; restored at the end.
    affinity = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {0})
    try:
        return _suite(build, smoke, progress, check)
    finally:
        os.sched_setaffinity(0, affinity)


def _suite(build, smoke, progress, check):
    services = 50 if smoke else 10_000
    rounds, adm_rounds = (5, 3) if smoke else (200, 50)
    out = []
    for scheduler in ["rr", "mh"]:
        with bench_pmd.Harness(build, 256) as h:
            # The generator is there for the memif port to connect; it sends nothing
            # (testpmd forwards only after "start").
            h.start_generator()
            h.start_dplb(max_services=16384, idle="sleep")
            pid = dataplane_pid(h)
            rss_before = rss_kib(pid)
            text = restore_file(services, scheduler)
            progress(f"control: dplbadm -R of {services} services x {REALS_PER_SERVICE} ({scheduler}), worker idle")
            t_restore = timed(lambda: h.adm("-R", input=text))
            rss_after = rss_kib(pid)
            listed = sum(1 for line in h.adm("-L", "-n").splitlines()
                         if line.startswith("  -> ") and "RemoteAddress" not in line)
            check(listed == services * REALS_PER_SERVICE,
                  f"control: {listed} real servers listed, {services * REALS_PER_SERVICE} restored")
            r = {"suite": "control", "what": "idle", "scheduler": scheduler, "services": services,
                 "reals_per_service": REALS_PER_SERVICE, "restore_seconds": round(t_restore, 3),
                 "dataplane_rss_growth_kib": rss_after - rss_before,
                 "dataplane_bytes_per_service": round((rss_after - rss_before) * 1024 / services)}
            progress(f"control: single real-server changes ({scheduler})")
            r["changes"] = single_changes(h, services, rounds, adm_rounds)
            if scheduler == "rr":
                progress("control: 1,000 weight flips from 10 concurrent clients")
                r["flips"] = concurrent_flips(h, services, 10, 100 if smoke else 1000)
                check(not r["flips"]["errors"], f"control: flips failed: {r['flips']['errors']}")
                set_times = [timed(lambda: run_dplbadm(h, ["--set", str(900 + i), "120", "300"]))
                             for i in range(rounds // 4 + 1)]
                r["set_timeouts"] = summary_ms(set_times)
                progress(f"control: /metrics of {services} services x {REALS_PER_SERVICE}")
                r["scrape"] = scrapes(h, 5 if smoke else 20)
            r["generation"] = h.status().get("generation")
            out.append(r)
    out.append(scrape_cost(build, services, 2, 5 if smoke else 20, progress))
    # The same single changes with FULLNAT traffic running (busy worker, suite 2's generator).
    n = 10 if smoke else 100
    with bench_pmd.Harness(build, 1024) as h:
        h.start_generator()
        h.start_dplb()
        h.configure("fullnat")
        times = []

        def change_loop():
            cl = ControlClient(h.control_sock)
            try:
                for i in range(n):
                    req = {"cmd": "edit-real", "service": {"protocol": "udp", "address": bench_pmd.VIP, "port": 53},
                           "real_server": {"address": bench_pmd.REALS[0], "port": 8053, "weight": 1 + i % 5}}
                    times.append(timed(lambda: cl.call(req)))
            finally:
                cl.close()

        window = 1 if smoke else 5
        progress("control: FULLNAT traffic without changes (baseline)")
        base = h.measure(window)
        progress(f"control: {n} real-server changes under FULLNAT traffic")
        m = h.measure(window, during=change_loop)
        lost = sum(v for reason, v in m["dplb_drops_by_reason"].items() if reason != "tx_full")
        m.update(suite="control", what="changes_under_traffic", changes=n, latency=summary_ms(times),
                 lost_by_dplb=lost, tx_full=m["dplb_drops_by_reason"].get("tx_full", 0),
                 baseline_tx_full=base["dplb_drops_by_reason"].get("tx_full", 0),
                 baseline_forwarded_mpps=base["forwarded_mpps"])
        check(abs(m["dplb_rx"] - m["dplb_tx"] - m["dplb_drops"]) <= 64, f"control under traffic: {m}")
        out.append(m)
    return out
