"""Issue 13's /metrics (docs/operations.md, "Monitoring with Prometheus") on the seed NAT lab:
dplb-control serves its default 127.0.0.1:9469 inside a "director" namespace (so parallel
runs never share the port) and checks RS1/RS2 with TCP_CHECK from there.

- a live page passes `promtool check metrics` (Debian's prometheus package), answers with the
  text format's content type, and every other path is 404;
- 100 curls through the NAT service move each real server's
  dplb_real_server_connections_total by exactly the answers it gave, and the service's by 100;
- per-worker drops are there by reason, zeros included; a FULLNAT service's local-port pool
  is counted;
- a killed web server shows dplb_real_server_up 0, its transitions counter moves;
- without the dataplane only dplb-control's families remain, dplb_dataplane_up 0;
- `--metrics-listen off` listens nowhere; a bad address is refused at start.
"""
import re
import signal
import subprocess
import time

import pytest

from conftest import LIP, RS, SERVER_NET_DP, VIP
from exposition import parse, value
from lab import CONTROL, Lab, sh, wait_until

URL = f"http://{VIP}/"
DIRECTOR_LEG = ("s", "192.168.253.141/24")
DROP_REASONS_HEADER = "dataplane/stats/drop_reason.hpp"


def real_labels(name):
    return dict(vip=VIP, port="80", proto="tcp", fwmark="", real=RS[name], real_port="80")


def keepalived_conf():
    checks = "".join(f"""
    real_server {RS[n]} 80 {{
        weight 1
        TCP_CHECK {{
            connect_timeout 2
            delay_before_retry 1
        }}
    }}
""" for n in ("RS1", "RS2"))
    return f"""virtual_server {VIP} 80 {{
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
{checks}}}
"""


@pytest.fixture
def metrics_lab():
    lab = Lab()
    try:
        lab.__enter__()
        lab.segment("c")
        lab.segment("s")
        lab.host("client", "c", "192.168.227.200/24")
        lab.servers = {}
        for name, addr in RS.items():
            h = lab.host(name.lower(), "s", f"{addr}/24", gateway=SERVER_NET_DP.split("/")[0])
            lab.servers[name] = lab.http_server(h, name)
        lab.start_dataplane([("client", "c", "192.168.227.1/24"), ("server", "s", SERVER_NET_DP)])
        conf = lab.tmp / "keepalived.conf"
        conf.write_text(keepalived_conf())
        lab.start_control(extra=["--keepalived-conf", conf], netns_leg=DIRECTOR_LEG, metrics=True)
        wait_until(lambda: f"TCP  {VIP}:80" in lab.adm("-L", "-n").stdout, 10, "the keepalived.conf service")
        yield lab
    finally:
        lab.close()


def scrape(lab):
    code, headers, body = lab.scrape()
    assert code == 200, f"{code} {headers}\ncontrol.log:\n{lab.log('control.log')[-3000:]}"
    return headers, body


def drop_reasons():
    from pathlib import Path
    text = (Path(__file__).resolve().parents[2] / DROP_REASONS_HEADER).read_text()
    return re.findall(r"^\s+X\((\w+)\)", text, re.M)


def test_metrics_page_counts_and_health(metrics_lab):
    lab = metrics_lab
    headers, body = scrape(lab)
    assert re.search(r"(?im)^content-type: text/plain; version=0\.0\.4", headers), headers
    promtool = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, text=True, timeout=60)
    assert promtool.returncode == 0, f"promtool: {promtool.stdout}{promtool.stderr}"
    # As Prometheus asks: served uncompressed all the same (docs/operations.md: gzip of a
    # 10,000-service page costs ~0.3 s).
    code, gz_headers, _ = lab.scrape(headers=["Accept-Encoding: gzip"])
    assert code == 200 and "content-encoding" not in gz_headers.lower(), gz_headers
    assert lab.scrape("http://127.0.0.1:9469/")[0] == 404
    assert lab.scrape("http://127.0.0.1:9469/metricsx")[0] == 404

    s = parse(body)
    assert value(s, "dplb_dataplane_up") == 1
    # Every drop reason, zeros included, for worker 0 and the main lcore.
    reasons = drop_reasons()
    assert len(reasons) > 30
    for worker in ("0", "main"):
        got = {lbl["reason"] for n, lbl, _ in s if n == "dplb_worker_drops_total" and lbl["worker"] == worker}
        assert got == set(reasons), set(reasons) ^ got
    assert value(s, "dplb_worker_drops_total", worker="0", reason="snat_ports_exhausted") == 0
    assert value(s, "dplb_worker_sessions_capacity", worker="0") > 0
    assert value(s, "dplb_snapshot_generation") >= 1
    assert value(s, "dplb_real_server_weight", **real_labels("RS1")) == 1

    # Both servers checked once before traffic (so their up is settled).
    wait_until(lambda: all(c["last_result"] is not None for svc in lab.health()["services"]
                           for r in svc["reals"] for c in r["checkers"]), 10, "the first checks")
    before = parse(scrape(lab)[1])
    svc = dict(vip=VIP, port="80", proto="tcp", fwmark="")
    answers = {"RS1": 0, "RS2": 0}
    client = lab.hosts["client"]
    for _ in range(100):
        answers[client.curl(URL).strip()] += 1
    assert answers["RS1"] + answers["RS2"] == 100 and min(answers.values()) > 0, answers
    after = parse(scrape(lab)[1])
    for name, n in answers.items():
        grew = (value(after, "dplb_real_server_connections_total", **real_labels(name)) -
                value(before, "dplb_real_server_connections_total", **real_labels(name)))
        assert grew == n, f"{name}: +{grew}, answered {n}"
        assert value(after, "dplb_real_server_incoming_packets_total", **real_labels(name)) > 0
    assert (value(after, "dplb_virtual_service_connections_total", **svc) -
            value(before, "dplb_virtual_service_connections_total", **svc)) == 100
    assert value(after, "dplb_worker_rx_packets_total", worker="0") > value(before, "dplb_worker_rx_packets_total", worker="0")
    # dplbadm --zero does not touch Prometheus counters.
    lab.adm("--zero")
    zeroed = parse(scrape(lab)[1])
    assert value(zeroed, "dplb_virtual_service_connections_total", **svc) >= \
        value(after, "dplb_virtual_service_connections_total", **svc)
    # Neither the keepalived.conf loaded at start nor --zero is a change request.
    assert value(zeroed, "dplb_control_change_duration_seconds_count") == 0

    # FULLNAT: a second service through a local address; its port pool is counted.
    fnat = f"{VIP}:81"
    lab.adm("-A", "-t", fnat, "-s", "rr")
    lab.adm("--add-laddr", "-z", LIP, "-t", fnat)
    lab.adm("-a", "-t", fnat, "-r", f"{RS['RS1']}:80", "-b")
    for _ in range(10):
        assert client.curl(f"http://{fnat}/").strip() == "RS1"
    fs = parse(scrape(lab)[1])
    assert value(fs, "dplb_virtual_service_connections_total", vip=VIP, port="81", proto="tcp", fwmark="") == 10
    capacity = value(fs, "dplb_local_address_ports_capacity", laddr=LIP)
    assert 0 < value(fs, "dplb_local_address_ports_in_use", laddr=LIP) <= capacity  # closed ones linger (TIME_WAIT)
    assert value(fs, "dplb_worker_sessions", worker="0") > 0
    lab.adm("-D", "-t", fnat)

    # A killed web server: the TCP_CHECK takes it out.
    rs2 = real_labels("RS2")
    assert value(zeroed, "dplb_real_server_up", **rs2) == 1
    flips = value(zeroed, "dplb_real_server_check_transitions_total", **rs2)
    assert value(zeroed, "dplb_real_server_check_duration_seconds", **rs2) < 2
    lab.terminate(lab.servers["RS2"], signal.SIGKILL)
    killed = time.monotonic()
    wait_until(lambda: value(parse(scrape(lab)[1]), "dplb_real_server_up", **rs2) == 0, 10, "RS2 up 0")
    print(f"METRICS-MEASURE up_0_after={time.monotonic() - killed:.2f}s", flush=True)
    down = parse(scrape(lab)[1])
    assert value(down, "dplb_real_server_check_transitions_total", **rs2) == flips + 1
    assert value(down, "dplb_real_server_up", **real_labels("RS1")) == 1

    # Changes on the control socket are timed.
    lab.adm("-e", "-t", f"{VIP}:80", "-r", f"{RS['RS1']}:80", "-m", "-w", "2")
    changed = parse(scrape(lab)[1])
    assert value(changed, "dplb_control_change_duration_seconds_count") >= 1
    assert value(changed, "dplb_control_change_duration_seconds_bucket", le="+Inf") == \
        value(changed, "dplb_control_change_duration_seconds_count")
    assert value(changed, "dplb_real_server_weight", **real_labels("RS1")) == 2

    # Without the dataplane: only dplb-control's families.
    lab.stop_dataplane()
    wait_until(lambda: lab.status().get("dataplane") == "disconnected", 10, "control to see the dataplane gone")
    gone = parse(scrape(lab)[1])
    assert value(gone, "dplb_dataplane_up") == 0
    assert not [n for n, _, _ in gone if n.startswith(("dplb_worker_", "dplb_virtual_service_", "dplb_snapshot_"))]
    assert value(gone, "dplb_real_server_weight", **real_labels("RS1")) == 2


def test_metrics_off_and_bad_addresses(tmp_path):
    lab = Lab()
    try:
        lab.__enter__()
        ns = lab.netns("ctl")
        sock, dsock = tmp_path / "c.sock", tmp_path / "d.sock"
        base = ["ip", "netns", "exec", ns, CONTROL, "--socket", sock, "--dataplane-socket", dsock,
                "--state", tmp_path / "state.json"]
        p = lab.spawn([*base, "--metrics-listen", "off"], log="off.log")
        wait_until(lambda: sock.exists() or p.poll() is not None, 10, "the control socket")
        assert p.poll() is None, lab.log("off.log")
        listening = sh("ip", "netns", "exec", ns, "ss", "-Htln").stdout
        assert listening.strip() == "", listening
        assert "event=metrics_serving" not in lab.log("off.log")
        lab.terminate(p)
        sock.unlink(missing_ok=True)
        # The default: 127.0.0.1:9469, said in the log.
        p = lab.spawn(base, log="on.log")
        wait_until(lambda: "event=metrics_serving" in lab.log("on.log") or p.poll() is not None, 10, "the metrics listener")
        assert "http://127.0.0.1:9469/metrics" in lab.log("on.log")
        assert "127.0.0.1:9469" in sh("ip", "netns", "exec", ns, "ss", "-Htln").stdout
        # Taken: refused at start, the address named.
        other = sh("ip", "netns", "exec", ns, CONTROL, "--socket", tmp_path / "c2.sock", "--dataplane-socket", dsock,
                   "--state", tmp_path / "state2.json", check=False)
        assert other.returncode == 1 and "cannot listen on 127.0.0.1:9469 for /metrics" in other.stderr, other.stderr
        lab.terminate(p)
        for bad in ("127.0.0.1", "localhost:9469", "127.0.0.1:70000", "[::1]"):
            r = sh(CONTROL, "--metrics-listen", bad, "--socket", tmp_path / "x.sock", check=False)
            assert r.returncode == 2 and f"--metrics-listen: '{bad}'" in r.stderr, r.stderr
        help_text = sh(CONTROL, "--help").stdout
        assert "--metrics-listen" in help_text and "--no-metrics" in help_text
    finally:
        lab.close()
