"""Issue 13: Debian's Prometheus server scrapes dplb-control's /metrics in a lab, and every query
of the Grafana dashboard (configs/grafana/dplb.json) returns the lab's traffic.

The seed NAT lab (conftest.py) with dplb as the director and 2 workers; dplb-control reads a
keepalived.conf (a NAT service on VIP:80 and a FULLNAT one on VIP:8080, both on RS1 and RS2
with TCP_CHECKs) in a "director" namespace, where its /metrics listens on a free loopback
port and a Prometheus server (prometheus_server.py) scrapes it every second. The test drives
HTTP requests through both services, packets the dataplane drops (SYNs to a VIP port without
a service, TCP segments without a SYN or a session), weight changes, and a real server killed
and restarted so its health flips; then it evaluates every dashboard query through
Prometheus's HTTP API, Grafana's variables substituted (tools/dashboard_queries.py), and
checks that each returns data and that the numbers are the lab's.

With DPLB_PROMETHEUS_PLOT=PATH the run also draws tools/prometheus_plot.py's PNG to PATH (how
docs/images/prometheus-lab.png was made). Measured figures: PROM-MEASURE lines (-s)."""
import contextlib
import math
import os
import re
import signal
import sys
import time

import pytest

from conftest import LIP, RS, SERVER_NET_DP, VIP
from lab import HERE, SYSTEM_PYTHON, Lab, RequestLoop, wait_until
from prometheus_server import FREE_PORT, PrometheusServer

sys.path.insert(0, str(HERE.parents[1] / "tools"))
import dashboard_queries as dq  # noqa: E402
import prometheus_plot  # noqa: E402

DIRECTOR_LEG = ("s", "192.168.253.141/24")
WORKERS = 2
SESSIONS_PER_WORKER = 65536  # lab.start_dataplane's configuration
RATE_INTERVAL = "15s"  # what the test substitutes for $__rate_interval in instant queries
DOWN_FOR = 6  # seconds RS2 stays dead once Prometheus saw it down
AFTER = 6  # seconds of requests after RS2 is back (the plot's last part)
REAL = {name: f"{addr}" for name, addr in RS.items()}


def measure(name, value):
    print(f"PROM-MEASURE {name}={value}", flush=True)


def keepalived_conf():
    checks = """        TCP_CHECK {
            connect_timeout 1
            delay_before_retry 1
        }
"""
    reals = "".join(f"""
    real_server {addr} 80 {{
        weight 1
{checks}    }}
""" for addr in REAL.values())
    return f"""! The Prometheus lab: a NAT and a FULLNAT service on RS1 and RS2, checked every second.
local_address_group laddr_lab {{
    {LIP}
}}
virtual_server {VIP} 80 {{
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
{reals}}}
virtual_server {VIP} 8080 {{
    delay_loop 1
    lb_algo rr
    lb_kind FNAT
    laddr_group_name laddr_lab
    protocol TCP
{reals}}}
"""


@pytest.fixture
def prom_lab():
    lab = Lab()
    try:
        lab.__enter__()  # inside: a failure after it made the switch namespace still closes the lab
        lab.segment("c")
        lab.segment("s")
        lab.host("client", "c", "192.168.227.200/24")
        lab.servers = {}
        for name, addr in REAL.items():
            h = lab.host(name.lower(), "s", f"{addr}/24", gateway=SERVER_NET_DP.split("/")[0])
            lab.servers[name] = lab.http_server(h, name)
        lab.start_dataplane([("client", "c", "192.168.227.1/24"), ("server", "s", SERVER_NET_DP)],
                            workers=WORKERS)
        # dplb-control, its /metrics and Prometheus share the director namespace's loopback.
        director = lab.host("director", *DIRECTOR_LEG)
        lab.metrics_address = f"127.0.0.1:{int(director.run('/usr/bin/python3', '-c', FREE_PORT).stdout)}"
        conf = lab.tmp / "keepalived.conf"
        conf.write_text(keepalived_conf())
        lab.start_control(extra=["--keepalived-conf", conf, "--metrics-listen", lab.metrics_address],
                          netns_leg=DIRECTOR_LEG)
        wait_until(lambda: f"TCP  {VIP}:8080" in lab.adm("-L", "-n").stdout, 10, "the keepalived.conf services")
        yield lab
    finally:
        lab.close()


def by(result, *labels):
    """{(label values...): value} of an instant query's result."""
    return {tuple(m.get(k, "") for k in labels): v for m, v in result}


def test_every_dashboard_query_returns_the_labs_traffic(prom_lab):
    lab = prom_lab
    client = lab.hosts["client"]
    dashboard = dq.load()
    with PrometheusServer(lab, [lab.metrics_address], netns=lab.hosts["director"].ns) as prom:
        measure("prometheus_startup_seconds", f"{prom.startup_seconds:.2f}")
        t0 = time.monotonic()
        prom.wait_scraped()
        measure("prometheus_first_scrape_seconds", f"{time.monotonic() - t0:.2f}")
        assert by(prom.query("dplb_dataplane_up"), "instance") == {(lab.metrics_address,): 1.0}
        start = time.time()

        # Both services serve; then drops, changes, and RS2's death and return, requests running.
        loops = [RequestLoop(client, f"http://{VIP}:{port}/", count=2000, max_seconds=60, timeout=3, pause=0.05)
                 for port in (80, 8080)]
        with contextlib.ExitStack() as running:
            for loop in loops:
                running.enter_context(loop)
            wait_until(lambda: all(len(set(loop.bodies)) == 2 for loop in loops) and
                       min(loop.done for loop in loops) >= 40, 30, "both real servers serving both services")
            before_kill = time.time()

            # Drops: SYNs to a VIP port without a service (no_service), TCP segments without
            # SYN of no session (tcp_no_session).
            for _ in range(3):
                client.run("curl", "-sS", "-m", "1", f"http://{VIP}:81/", check=False)
            client.run(SYSTEM_PYTHON, "-c",
                       "from scapy.all import IP, TCP, send\n"
                       f"send([IP(dst='{VIP}')/TCP(sport=41000 + i, dport=80, flags='A', seq=1, ack=1) "
                       "for i in range(20)], verbose=0)", timeout=60)
            # Changes for the change-latency histogram and the snapshot generation.
            for weight in (2, 1, 3, 1):
                lab.adm("-e", "-t", f"{VIP}:8080", "-r", f"{REAL['RS1']}:80", "-w", str(weight))

            killed = time.monotonic()
            lab.terminate(lab.servers["RS2"], signal.SIGKILL)
            rs2_up = f'dplb_real_server_up{{real="{REAL["RS2"]}"}}'
            wait_until(lambda: [v for _, v in prom.query(rs2_up)] == [0.0, 0.0], 15,
                       "Prometheus to see RS2 down in both services", interval=0.2)
            measure("rs2_down_seen_by_prometheus_seconds", f"{time.monotonic() - killed:.2f}")
            during_down = time.time()
            time.sleep(DOWN_FOR)
            restarted = time.monotonic()
            lab.servers["RS2"] = lab.http_server(lab.hosts["rs2"], "RS2")
            wait_until(lambda: [v for _, v in prom.query(rs2_up)] == [1.0, 1.0], 15,
                       "Prometheus to see RS2 up again", interval=0.2)
            measure("rs2_up_seen_by_prometheus_seconds", f"{time.monotonic() - restarted:.2f}")
            wait_until(lambda: all(sum(1 for b in loop.bodies[-20:] if b == "RS2") > 0 for loop in loops), 20,
                       "RS2 serving again")
            time.sleep(AFTER)
            for loop in loops:
                loop.stop()
        requests = {port: loop.done for port, loop in zip((80, 8080), loops)}
        measure("requests", requests)
        # The last requests' connections in a scrape.
        time.sleep(2)
        end = time.time()

        # ---- every query of the dashboard returns data ------------------------------------
        # At `during_down`: RS2 down, the drops, the changes and the flip inside the rate
        # interval; $__range covers the whole run.
        values = {"__rate_interval": RATE_INTERVAL, "__range": f"{math.ceil(end - start) + 5}s"}
        # The HA row's families need VIP ownership or a sync daemon, which this lab has not:
        # the HA lab checks them on live pages (docs/operations.md, "Grafana dashboard").
        exprs = {(title, ref): expr for title, ref, expr, _ in dq.targets(dashboard, skip_rows=(dq.HA_ROW,))}

        def q(title, ref="A", at=during_down):
            return prom.query(dq.substitute(exprs[(title, ref)], values), at=at)

        empty = [f"{title}/{ref}: {dq.substitute(expr, values)}" for (title, ref), expr in exprs.items()
                 if not q(title, ref)]
        assert not empty, "dashboard queries without data:\n" + "\n".join(empty)
        measure("dashboard_queries_with_data", f"{len(exprs)}/{len(exprs)}")
        # The variables' label_values(MATCH, LABEL) lists, as Grafana asks for them.
        listed = {}
        for name, query in dq.query_variables(dashboard).items():
            match, label = re.fullmatch(r"label_values\((.*), (\w+)\)", query).groups()
            listed[name] = sorted(prom.label_values(label, dq.substitute(match, values)))
        assert listed == {"instance": [lab.metrics_address], "vip": [VIP], "real": sorted(REAL.values())}, listed

        # ---- and the numbers are the lab's ------------------------------------------------
        # Before the kill both real servers took new connections in both services.
        conns = by(q("New connections/s per real server", at=before_kill), "port", "real")
        assert set(conns) == {(p, r) for p in ("80", "8080") for r in REAL.values()}, conns
        assert all(v > 0 for v in conns.values()), conns
        # Every request was one connection to its service, and each went to one real server.
        totals = by(prom.query("dplb_virtual_service_connections_total", at=end), "port")
        assert totals == {("80",): requests[80], ("8080",): requests[8080]}, (totals, requests)
        per_real = by(prom.query("sum by (port) (dplb_real_server_connections_total)", at=end), "port")
        assert per_real == totals, (per_real, totals)
        # RS2 down, RS1 up, while RS2 was dead; the stat panel counts RS2 once per service.
        health = by(q("Real server health"), "port", "real")
        assert health == {("80", REAL["RS1"]): 1, ("8080", REAL["RS1"]): 1,
                          ("80", REAL["RS2"]): 0, ("8080", REAL["RS2"]): 0}, health
        assert [v for _, v in q("Real servers down")] == [2.0]
        # Over the whole run RS2 flipped down and up in each service, RS1 never.
        flips = by(q("Flips in the time range", at=end), "port", "real")
        assert {k: round(v) for k, v in flips.items()} == {
            ("80", REAL["RS1"]): 0, ("8080", REAL["RS1"]): 0, ("80", REAL["RS2"]): 2, ("8080", REAL["RS2"]): 2}, flips
        # The drops the test sent, by reason.
        drops = by(q("Drops/s by reason"), "reason")
        assert drops.get(("no_service",), 0) > 0 and drops.get(("tcp_no_session",), 0) > 0, drops
        # Sessions: some in use, the configured capacity.
        sessions = {r: v for (r,), v in by(q("Sessions vs capacity", "A"), "instance").items()}
        capacity = [v for _, v in q("Sessions vs capacity", "B")]
        assert all(v > 0 for v in sessions.values()) and capacity == [WORKERS * SESSIONS_PER_WORKER], \
            (sessions, capacity)
        assert set(by(q("Sessions per worker"), "worker")) == {(str(w),) for w in range(WORKERS)}
        # The FULLNAT service's connections hold ports of the local address.
        ports = by(q("FULLNAT local ports in use"), "laddr")
        assert list(ports) == [(LIP,)] and ports[(LIP,)] > 0, ports
        # The four weight changes: the generation moved and the latency quantiles are numbers.
        latency = [v for ref in "ABC" for _, v in q("Change latency", ref)]
        assert latency and all(math.isfinite(v) and v > 0 for v in latency), latency
        measure("change_latency_p50_seconds", f"{latency[0]:.4f}")
        generations = [v for _, v in prom.query_range("dplb_snapshot_generation", start, end, 1)[0][1]]
        assert generations[-1] - generations[0] >= 4, generations

        # ---- the plot's panels over the run (query_range) -----------------------------------
        plot_values = {"__rate_interval": "5s", "__interval": "1s"}
        fetched = [prometheus_plot.fetch(prom.get, dashboard, title, start, end, 1, plot_values)
                   for title in prometheus_plot.DEFAULT_PANELS]
        for panel, series in fetched:
            assert series and all(points for _, points in series), panel["title"]
        out = os.environ.get("DPLB_PROMETHEUS_PLOT")
        if out:
            prometheus_plot.draw(fetched, out, start, 1,
                                 title=f"dplb Prometheus lab: {requests[80]} + {requests[8080]} requests "
                                       f"through {VIP}:80 (NAT) and :8080 (FULLNAT), RS2 killed and restarted")
            print(f"PROM-PLOT {out}", flush=True)
