"""Issue 11's health checks with keepalived's semantics, on the seed NAT lab with dplb as the
director and dplb-control reading the keepalived.conf of seed 004
(../shared/seeds/004_dbabfe37a6cddac8.txt).

dplb-control checks from the kernel's network stack, not through the dataplane: it runs in a
"director" namespace with a leg on the real servers' segment (192.168.253.141); dplbadm
reaches its socket from the root namespace. Every test writes its keepalived.conf into the
lab's directory, starts dplb-control with `--keepalived-conf`, breaks a real server the way
the check under test sees it, and measures how long the director takes to follow. Measured
figures are printed as `HEALTH-MEASURE name=value` lines (the meson test runs pytest -s, so
they land in meson-logs/testlog.txt).
"""
import hashlib
import os
import signal
import subprocess
import time

import pytest

from conftest import RS, SERVER_NET_DP, VIP
from lab import Lab, RequestLoop, wait_until

URL = f"http://{VIP}/"
RS3 = "192.168.253.145"  # a third web server: sorry server, or the real server a reload adds
DIRECTOR_LEG = ("s", "192.168.253.141/24")
ADDR = {"RS1": RS["RS1"], "RS2": RS["RS2"], "RS3": RS3}

# The timings every test's checkers use (seed 004: delay_loop 6, connect_timeout 3,
# delay_before_retry 3, retry left at TCP_CHECK's default of 1): seconds, not tens of seconds.
DELAY_LOOP = 1
CONNECT_TIMEOUT = 2
RETRY = 1
DELAY_BEFORE_RETRY = 1
SLACK = 1.0  # scheduling, dplbadm polls every 50 ms, the push to the dataplane
# A killed server refuses at once: the first check after the kill (within delay_loop) fails,
# `retry` more fail delay_before_retry apart, and the last one may take up to connect_timeout.
DOWN_BOUND = DELAY_LOOP + CONNECT_TIMEOUT + RETRY * DELAY_BEFORE_RETRY + SLACK
# Back up: the next check (within delay_loop, or delay_before_retry) succeeds.
UP_BOUND = max(DELAY_LOOP, DELAY_BEFORE_RETRY) + CONNECT_TIMEOUT + SLACK


def measure(name, seconds, bound=None):
    extra = f" bound={bound:.1f}s" if bound is not None else ""
    print(f"HEALTH-MEASURE {name}={seconds:.3f}s{extra}", flush=True)


# ----- the lab ---------------------------------------------------------------------------
@pytest.fixture
def health_lab():
    """Seed 000's NAT lab (client segment, RS1/RS2 behind the director) plus RS3 on the real
    servers' segment; the dataplane runs, dplb-control is left to the test (start())."""
    lab = Lab()
    try:
        lab.__enter__()  # inside: a failure after it made the switch namespace still closes the lab
        lab.segment("c")
        lab.segment("s")
        lab.host("client", "c", "192.168.227.200/24")
        lab.servers = {}
        for name, addr in ADDR.items():
            h = lab.host(name.lower(), "s", f"{addr}/24", gateway=SERVER_NET_DP.split("/")[0])
            lab.servers[name] = lab.http_server(h, name, status_file=lab.tmp / f"{name}.status")
        lab.start_dataplane([("client", "c", "192.168.227.1/24"), ("server", "s", SERVER_NET_DP)])
        yield lab
    finally:
        lab.close()


def start(lab, conf, extra=()):
    """Writes keepalived.conf into the lab and starts dplb-control on it in the director
    namespace; returns once the file's services are listed."""
    path = lab.tmp / "keepalived.conf"
    path.write_text(conf)
    lab.start_control(extra=["--keepalived-conf", path, *extra], netns_leg=DIRECTOR_LEG)
    wait_until(lambda: f"TCP  {VIP}:80" in lab.adm("-L", "-n").stdout, 10, "the keepalived.conf services")
    return path


def restart_server(lab, name):
    lab.servers[name] = lab.http_server(lab.hosts[name.lower()], name, status_file=lab.tmp / f"{name}.status")


def kill_server(lab, name):
    """SIGKILL to the web server's process (its Popen pid), as a crashed httpd."""
    lab.terminate(lab.servers[name], signal.SIGKILL)


def reals(lab):
    """The VIP's real servers as `dplbadm -L -n` lists them: {"A.B.C.D": weight}."""
    out, listed, inside = lab.adm("-L", "-n").stdout.splitlines(), {}, False
    for line in out:
        if line.startswith("TCP  "):
            inside = line.split()[1] == f"{VIP}:80"
        elif inside and line.startswith("  -> ") and not line.startswith("  -> RemoteAddress"):
            fields = line.split()
            listed[fields[1].rsplit(":", 1)[0]] = int(fields[3])
    return listed


def wait_reals(lab, expected, timeout, what):
    """Polls `-L -n` until the VIP's real servers are `expected` ({name: weight}); returns
    the moment (time.monotonic()) it saw them."""
    want = {ADDR[n]: w for n, w in expected.items()}
    seen = []

    def check():
        seen[:] = [reals(lab)]
        return seen[0] == want
    try:
        wait_until(check, timeout, what, interval=0.05)
    except TimeoutError:
        raise AssertionError(f"{what}: listed {seen[0] if seen else None}, want {want}\n"
                             f"--health: {lab.adm('--health', check=False).stdout}\n"
                             f"control.log:\n{lab.log('control.log')[-4000:]}") from None
    return time.monotonic()


def real_health(lab, name):
    """The `--health --json` entry of one real server of the VIP."""
    for svc in lab.health()["services"]:
        if svc["service"].get("address") == VIP:
            for r in svc["reals"]:
                if r["address"] == ADDR[name]:
                    return svc, r
    raise AssertionError(f"{name} not in --health: {lab.health()}")


def checkers_ran(lab, names):
    """Every checker of these real servers has a result (the first round is over)."""
    return all(c["last_result"] is not None for n in names for c in real_health(lab, n)[1]["checkers"])


def script(lab, name, text):
    path = lab.tmp / name
    path.write_text(text)
    path.chmod(0o755)
    return path


def notify_script(lab):
    """notify.sh ARGS...: appends its arguments as one line to notify.log. Run as keepalived
    runs notify/quorum scripts (a command line; dplb-control hands it to /bin/sh -c)."""
    return script(lab, "notify.sh", f'#!/bin/sh\necho "$*" >> {lab.tmp}/notify.log\n')


def notify_lines(lab):
    return lab.log("notify.log").splitlines()


def held_requests(lab, n, ms):
    """n connections held open: GET /slow?ms=ms from the client (curl processes, by pid)."""
    client = lab.hosts["client"]
    return [client.spawn("curl", "-sS", "--fail", "-m", "30", "-o", lab.tmp / f"held{i}.txt",
                         f"{URL}slow?ms={ms}", log=f"held{i}.log") for i in range(n)]


def held_bodies(lab, held):
    for i, p in enumerate(held):
        try:
            assert p.wait(timeout=35) == 0, f"held connection {i} failed: {lab.log(f'held{i}.log')}"
        except subprocess.TimeoutExpired:
            raise AssertionError(f"held connection {i} did not finish") from None
    return sorted((lab.tmp / f"held{i}.txt").read_text().strip() for i in range(len(held)))


def real_conns(lab):
    for svc in lab.listing()["services"]:
        if svc.get("address") == VIP:
            return {r["address"]: r["active_conns"] + r["inactive_conns"] for r in svc["real_servers"]}
    return {}


# ----- keepalived.conf -------------------------------------------------------------------
def keepalived_conf(real_servers, vs_options="", global_defs=""):
    """Seed 004's keepalived.conf adapted to the lab. `real_servers`: real_server blocks."""
    return f"""! Configuration File for keepalived
! Seed 004's file (../shared/seeds/004_dbabfe37a6cddac8.txt), adapted to the lab:
! - global_defs (mail, router_id, vrrp_*) and vrrp_instance VI_1 are keepalived's VRRP half,
!   which dplb leaves to keepalived: left out. global_defs keeps only what the checker half
!   reads (lvs_notify_fifo), when a test needs it.
! - virtual_server 192.168.213.200 80 -> the lab's VIP {VIP} (seed 000's NAT lab);
!   real servers 192.168.213.102 / .103 -> RS1 {RS['RS1']} / RS2 {RS['RS2']}.
! - lb_kind DR -> NAT: the lab's real servers route through the director (their default
!   gateway is the dataplane's {SERVER_NET_DP.split('/')[0]}), as in seed 000.
! - delay_loop 6 -> {DELAY_LOOP}, connect_timeout 3 -> {CONNECT_TIMEOUT}, delay_before_retry 3 -> {DELAY_BEFORE_RETRY}
!   (retry: TCP_CHECK's default, 1): the tests measure seconds, not tens of seconds.
{global_defs}
virtual_server {VIP} 80 {{             # LVS virtual service
    delay_loop {DELAY_LOOP}                       # how often the real servers are checked
    lb_algo rr                          # scheduler
    lb_kind NAT                         # forwarding (seed: DR)
    #persistence_timeout 50             # persistence
    protocol TCP
{vs_options}
{''.join(real_servers)}}}
"""


def tcp_check(extra=""):
    return f"""        TCP_CHECK {{                     # how the real server is checked
            connect_timeout {CONNECT_TIMEOUT}
            delay_before_retry {DELAY_BEFORE_RETRY}
{extra}        }}
"""


def real_server(name, checks, weight=1, extra=""):
    return f"""
    real_server {ADDR[name]} 80 {{        # real server
        weight {weight}
{extra}{checks}    }}
"""


# ----- 1. TCP_CHECK ----------------------------------------------------------------------
def test_tcp_check_takes_a_dead_server_out_and_back(health_lab):
    lab = health_lab
    notify = notify_script(lab)
    rs2_notify = f'        notify_up "{notify} up RS2"\n        notify_down "{notify} down RS2"\n'
    start(lab, keepalived_conf([real_server("RS1", tcp_check()), real_server("RS2", tcp_check(), extra=rs2_notify)]))
    wait_reals(lab, {"RS1": 1, "RS2": 1}, 5, "both real servers listed")
    wait_until(lambda: checkers_ran(lab, ["RS1", "RS2"]), DELAY_LOOP + CONNECT_TIMEOUT + 2, "the first checks")
    svc, rs2 = real_health(lab, "RS2")
    assert rs2["state"] == "up" and svc["quorum_up"] and not svc["sorry_active"], svc
    (chk,) = rs2["checkers"]
    assert chk["type"] == "TCP_CHECK" and chk["target"] == f"{RS['RS2']}:80" and chk["up"], chk
    text = lab.adm("--health").stdout
    assert "TCP_CHECK" in text and f"{RS['RS2']}:80" in text, text

    client = lab.hosts["client"]
    with RequestLoop(client, URL, count=1000, max_seconds=40, timeout=3, pause=0.02) as loop:
        loop.wait_for(6)
        killed = time.monotonic()
        kill_server(lab, "RS2")
        out = wait_reals(lab, {"RS1": 1}, DOWN_BOUND + 5, "RS2 out of -L -n")
        measure("tcp_check_down", out - killed, DOWN_BOUND)
        assert out - killed <= DOWN_BOUND
        _, rs2 = real_health(lab, "RS2")
        assert rs2["state"] == "removed" and not rs2["checkers"][0]["up"], rs2
        assert "refused" in rs2["checkers"][0]["last_failure"].lower(), rs2
        # From then on every request is RS1's.
        wait_until(lambda: sum(1 for e in loop.events if e[0] > out) >= 10, 30, "10 requests after RS2 left")
        during = [e for e in loop.events if killed <= e[0] <= out]
        after = [e for e in loop.events if e[0] > out]
        print(f"HEALTH-MEASURE tcp_check_failed_requests_while_detecting={sum(1 for e in during if e[2] is None)}"
              f" of {len(during)}", flush=True)
        assert [e[2] for e in after] == ["RS1"] * len(after), after

        started = time.monotonic()
        restart_server(lab, "RS2")
        back = wait_reals(lab, {"RS1": 1, "RS2": 1}, UP_BOUND + 5, "RS2 back in -L -n")
        measure("tcp_check_up", back - started, UP_BOUND)
        assert back - started <= UP_BOUND
        wait_until(lambda: any(e[2] == "RS2" for e in loop.events if e[0] > back), 10, "a request answered by RS2")
        loop.stop()
    assert all(e[2] is not None for e in loop.events if e[0] > out), loop.failures
    assert notify_lines(lab) == ["down RS2", "up RS2"], notify_lines(lab)
    _, rs2 = real_health(lab, "RS2")
    assert rs2["state"] == "up" and rs2["checkers"][0]["up"] and rs2["checkers"][0]["last_result"] == "up", rs2


# ----- 2. HTTP_GET -----------------------------------------------------------------------
def http_get(name):
    digest = hashlib.md5(f"{name}\n".encode()).hexdigest()
    return f"""        HTTP_GET {{
            url {{
                path /health
                digest {digest}
                status_code 200
            }}
            connect_timeout {CONNECT_TIMEOUT}
            delay_before_retry {DELAY_BEFORE_RETRY}
        }}
"""


def test_http_get_status_and_digest(health_lab):
    lab = health_lab
    start(lab, keepalived_conf([real_server("RS1", http_get("RS1")), real_server("RS2", http_get("RS2"))]))
    wait_until(lambda: checkers_ran(lab, ["RS1", "RS2"]), DELAY_LOOP + CONNECT_TIMEOUT + 2, "the first checks")
    wait_reals(lab, {"RS1": 1, "RS2": 1}, 2, "both up: status 200 and the right digests")
    status = lab.tmp / "RS2.status"

    for what, content, reason in (("status500", "500", "500"), ("digest", "200 not RS2's page", "digest")):
        status.write_text(content)
        t0 = time.monotonic()
        out = wait_reals(lab, {"RS1": 1}, DOWN_BOUND + 5, f"RS2 out ({what})")
        measure(f"http_get_down_{what}", out - t0, DOWN_BOUND)
        assert out - t0 <= DOWN_BOUND
        _, rs2 = real_health(lab, "RS2")
        (chk,) = rs2["checkers"]
        assert rs2["state"] == "removed" and chk["type"] == "HTTP_GET" and not chk["up"], rs2
        assert reason in chk["last_failure"].lower(), chk
        assert lab.hosts["client"].curl(URL).strip() == "RS1"
        status.write_text("200")
        t0 = time.monotonic()
        back = wait_reals(lab, {"RS1": 1, "RS2": 1}, UP_BOUND + 5, f"RS2 back after {what}")
        measure(f"http_get_up_{what}", back - t0, UP_BOUND)


# ----- 3. MISC_CHECK ---------------------------------------------------------------------
def test_misc_check_exit_codes_and_dynamic_weight(health_lab):
    lab = health_lab
    # keepalived's MISC_CHECK: exit 0 up, 1 down; with misc_dynamic 2..255 up with weight
    # (exit - 2). The test sets the exit code through RS2.code. misc_path is split into words
    # and executed (no shell), as keepalived does.
    misc = script(lab, "misc.sh", f'#!/bin/sh\nexit "$(cat {lab.tmp}/$1.code 2>/dev/null || echo 0)"\n')
    code = lab.tmp / "RS2.code"
    code.write_text("0")
    check = f"""        MISC_CHECK {{
            misc_path "{misc} RS2"
            misc_timeout {CONNECT_TIMEOUT}
            misc_dynamic
        }}
"""
    start(lab, keepalived_conf([real_server("RS1", tcp_check()), real_server("RS2", check, weight=2)]))
    wait_until(lambda: checkers_ran(lab, ["RS1", "RS2"]), DELAY_LOOP + CONNECT_TIMEOUT + 2, "the first checks")
    wait_reals(lab, {"RS1": 1, "RS2": 2}, 2, "RS2 up with its configured weight")

    code.write_text("5")  # up, weight 3
    t0 = time.monotonic()
    t = wait_reals(lab, {"RS1": 1, "RS2": 3}, DELAY_LOOP + CONNECT_TIMEOUT + SLACK + 2, "misc_dynamic weight 3")
    measure("misc_check_weight", t - t0)
    _, rs2 = real_health(lab, "RS2")
    assert rs2["state"] == "up" and rs2["weight"] == 3 and rs2["checkers"][0]["type"] == "MISC_CHECK", rs2

    code.write_text("1")  # down (MISC_CHECK's retry defaults to 0: the first failure counts)
    t0 = time.monotonic()
    t = wait_reals(lab, {"RS1": 1}, DELAY_LOOP + CONNECT_TIMEOUT + SLACK + 2, "RS2 out on exit 1")
    measure("misc_check_down", t - t0, DELAY_LOOP + CONNECT_TIMEOUT + SLACK)
    assert real_health(lab, "RS2")[1]["state"] == "removed"

    code.write_text("6")  # up again, weight 4 from the exit code
    t0 = time.monotonic()
    t = wait_reals(lab, {"RS1": 1, "RS2": 4}, DELAY_LOOP + CONNECT_TIMEOUT + SLACK + 2, "RS2 back with weight 4")
    measure("misc_check_up", t - t0)
    code.write_text("0")  # keepalived.conf(5) of 2.2.7: with misc_dynamic, exit 0 leaves the weight unchanged
    time.sleep(DELAY_LOOP + CONNECT_TIMEOUT + SLACK)
    wait_reals(lab, {"RS1": 1, "RS2": 4}, 2, "RS2 keeps weight 4 on exit 0")


# ----- 4. inhibit_on_failure -------------------------------------------------------------
def test_inhibit_on_failure_keeps_established_connections(health_lab):
    lab = health_lab
    # RS2's checker looks at a second server on port 8080 (connect_port): killing that one
    # fails the check while RS2's web server on port 80 keeps serving its connections.
    rs2_check = lab.http_server(lab.hosts["rs2"], "RS2-check", port=8080)
    inhibit = "        inhibit_on_failure\n"
    start(lab, keepalived_conf([real_server("RS1", tcp_check()),
                                real_server("RS2", tcp_check("            connect_port 8080\n"), extra=inhibit)]))
    wait_until(lambda: checkers_ran(lab, ["RS1", "RS2"]), DELAY_LOOP + CONNECT_TIMEOUT + 2, "the first checks")
    wait_reals(lab, {"RS1": 1, "RS2": 1}, 2, "both up")
    assert real_health(lab, "RS2")[1]["checkers"][0]["target"] == f"{RS['RS2']}:8080"

    # rr: two held connections, one on each real server; each answers after 8 s.
    held = held_requests(lab, 2, 8000)
    wait_until(lambda: sum(real_conns(lab).values()) == 2, 5, "the held connections to be scheduled")
    assert real_conns(lab) == {RS["RS1"]: 1, RS["RS2"]: 1}
    t0 = time.monotonic()
    lab.terminate(rs2_check, signal.SIGKILL)
    t = wait_reals(lab, {"RS1": 1, "RS2": 0}, DOWN_BOUND + 3, "RS2 listed with weight 0")
    measure("inhibit_down", t - t0, DOWN_BOUND)
    assert t - t0 <= DOWN_BOUND
    assert [p.poll() for p in held] == [None, None], "the held connections ended before the flip"
    _, rs2 = real_health(lab, "RS2")
    assert rs2["state"] == "inhibited", rs2
    # New connections go to RS1 only; the one held on RS2 gets its answer.
    assert [lab.hosts["client"].curl(URL).strip() for _ in range(4)] == ["RS1"] * 4
    assert held_bodies(lab, held) == ["RS1", "RS2"]
    # The checked server back: RS2's weight back.
    lab.http_server(lab.hosts["rs2"], "RS2-check", port=8080)
    wait_reals(lab, {"RS1": 1, "RS2": 1}, UP_BOUND + 3, "RS2's weight back")


# ----- 5. sorry_server and quorum --------------------------------------------------------
def test_quorum_lost_brings_the_sorry_server(health_lab):
    lab = health_lab
    notify = notify_script(lab)
    fifo = lab.tmp / "lvs.fifo"
    os.mkfifo(fifo)
    # The reading end opened first (non-blocking), so the writer finds a reader.
    fifo_fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    fifo_text = []

    def read_fifo():
        try:
            while True:
                chunk = os.read(fifo_fd, 65536)
                if not chunk:
                    break
                fifo_text.append(chunk.decode(errors="replace"))
        except BlockingIOError:
            pass
        return "".join(fifo_text)

    try:
        vs = (f"    quorum 2\n    hysteresis 0\n"
              f'    quorum_up "{notify} quorum_up"\n    quorum_down "{notify} quorum_down"\n'
              f"    sorry_server {RS3} 80\n")
        start(lab, keepalived_conf([real_server("RS1", tcp_check()), real_server("RS2", tcp_check())],
                                   vs_options=vs, global_defs=f"global_defs {{\n    lvs_notify_fifo {fifo}\n}}\n"))
        wait_until(lambda: checkers_ran(lab, ["RS1", "RS2"]), DELAY_LOOP + CONNECT_TIMEOUT + 2, "the first checks")
        wait_reals(lab, {"RS1": 1, "RS2": 1}, 2, "both reals, no sorry server")
        svc = real_health(lab, "RS1")[0]
        assert svc["quorum_up"] and not svc["sorry_active"] and svc["alive_weight"] == 2, svc
        # docs/health.md: the quorum starts lost and is evaluated once at start.
        wait_until(lambda: notify_lines(lab) == ["quorum_up"], 3, "quorum_up at start")
        lines_before = notify_lines(lab)

        t0 = time.monotonic()
        kill_server(lab, "RS2")
        t = wait_reals(lab, {"RS3": 1}, DOWN_BOUND + 5, "the sorry server instead of the reals")
        measure("quorum_lost_sorry_server", t - t0, DOWN_BOUND)
        assert t - t0 <= DOWN_BOUND
        svc = real_health(lab, "RS1")[0]
        assert not svc["quorum_up"] and svc["sorry_active"] and svc["alive_weight"] == 1, svc
        assert [lab.hosts["client"].curl(URL).strip() for _ in range(3)] == ["RS3"] * 3
        wait_until(lambda: "quorum_down" in notify_lines(lab), 3, "the quorum_down script")

        t0 = time.monotonic()
        restart_server(lab, "RS2")
        t = wait_reals(lab, {"RS1": 1, "RS2": 1}, UP_BOUND + 5, "the reals back, the sorry server gone")
        measure("quorum_back", t - t0, UP_BOUND)
        svc = real_health(lab, "RS1")[0]
        assert svc["quorum_up"] and not svc["sorry_active"], svc
        assert sorted(lab.hosts["client"].curl(URL).strip() for _ in range(2)) == ["RS1", "RS2"]
        wait_until(lambda: notify_lines(lab)[-1:] == ["quorum_up"], 3, "the quorum_up script")
        assert notify_lines(lab)[len(lines_before):] == ["quorum_down", "quorum_up"], notify_lines(lab)

        # lvs_notify_fifo: RS2 went down and came back (keepalived's "RS <rs> <vs> DOWN|UP" lines).
        rs, vs = f"[{RS['RS2']}]:tcp:80", f"[{VIP}]:tcp:80"
        wait_until(lambda: f"RS {rs} {vs} UP" in read_fifo(), 3, "the fifo's UP line")
        text = read_fifo()
        print("lvs_notify_fifo:\n" + text, flush=True)
        assert text.index(f"RS {rs} {vs} DOWN") < text.rindex(f"RS {rs} {vs} UP"), text
    finally:
        os.close(fifo_fd)


# ----- 6. passive check ------------------------------------------------------------------
SYN_DROP = """table inet healthlab {
    chain input {
        type filter hook input priority 0; policy accept;
        tcp dport 80 tcp flags & (syn | ack) == syn drop
    }
}
"""


def test_passive_check_takes_out_a_server_whose_syns_go_unanswered(health_lab):
    lab = health_lab
    down_for = 5
    # RS2 has no checker (keepalived: always up), so only the passive check can act on it.
    start(lab, keepalived_conf([real_server("RS1", tcp_check()), real_server("RS2", "")]),
          extra=["--passive-check", str(down_for)])
    wait_reals(lab, {"RS1": 1, "RS2": 1}, 5, "both listed")
    client = lab.hosts["client"]
    assert sorted(client.curl(URL).strip() for _ in range(2)) == ["RS1", "RS2"]

    # RS2's kernel drops every SYN to port 80: new connections to it are never answered.
    lab.hosts["rs2"].nft(SYN_DROP)
    t0 = time.monotonic()  # rr: one of the loop's first two connections is RS2's
    with RequestLoop(client, URL, count=1000, max_seconds=40, timeout=3, pause=0.02) as loop:
        out = wait_reals(lab, {"RS1": 1}, 10, "RS2 taken out by the passive check")
        # A SYN unanswered for 1 s is a failure: out within ~1-2 s of the first one.
        measure("passive_check_syn_timeout_down", out - t0, 2 + SLACK)
        assert out - t0 <= 2 + SLACK
        _, rs2 = real_health(lab, "RS2")
        assert rs2["passive_down"] and rs2["state"] == "removed", rs2
        wait_until(lambda: sum(1 for e in loop.events if e[0] > out) >= 5, 20, "requests after RS2 left")
        assert all(e[2] == "RS1" for e in loop.events if e[0] > out), loop.events

        # Trusted again after --passive-check seconds; its SYNs answered again, it stays.
        lab.hosts["rs2"].run("nft", "delete", "table", "inet", "healthlab")
        back = wait_reals(lab, {"RS1": 1, "RS2": 1}, down_for + 5, "RS2 back after the passive window")
        measure("passive_check_out_for", back - out, down_for)
        assert down_for - 0.5 <= back - out <= down_for + SLACK + 1
        wait_until(lambda: any(e[2] == "RS2" for e in loop.events if e[0] > back), 10, "a request answered by RS2")

        # dplb-control restarted (kill -9, same arguments) while the dataplane keeps its
        # counters: the failures it counted before are history, not news; RS2 stays in.
        assert any(r["address"] == RS["RS2"] and r["syn_timeouts"] >= 1
                   for r in lab.dataplane_request({"cmd": "passive-failures"})["reals"])
        lab.kill_control()
        lab.start_control(extra=["--keepalived-conf", lab.tmp / "keepalived.conf", "--passive-check", str(down_for)],
                          netns_leg=DIRECTOR_LEG)  # returns once connected to the dataplane
        restarted = time.monotonic()
        while time.monotonic() < restarted + 2:  # 4 polls of the dataplane's counters
            listed = reals(lab)
            assert listed == {RS["RS1"]: 1, RS["RS2"]: 1}, \
                f"restarting dplb-control took RS2 out on old counters: {listed} {real_health(lab, 'RS2')}"
            time.sleep(0.1)

        # A reset before ESTABLISHED counts too: RS2's web server gone, its kernel refuses.
        t0 = time.monotonic()
        kill_server(lab, "RS2")
        out = wait_reals(lab, {"RS1": 1}, 10, "RS2 taken out on refused connections")
        measure("passive_check_rst_down", out - t0, 1 + SLACK)
        assert out - t0 <= 1 + SLACK
        loop.stop()


# ----- 7. SIGHUP reload ------------------------------------------------------------------
def test_sighup_reload_applies_the_differences(health_lab):
    lab = health_lab
    path = start(lab, keepalived_conf([real_server("RS1", tcp_check()), real_server("RS2", tcp_check())]))
    wait_until(lambda: checkers_ran(lab, ["RS1", "RS2"]), DELAY_LOOP + CONNECT_TIMEOUT + 2, "the first checks")
    wait_reals(lab, {"RS1": 1, "RS2": 1}, 2, "both up")
    held = held_requests(lab, 2, 6000)
    wait_until(lambda: sum(real_conns(lab).values()) == 2, 5, "the held connections to be scheduled")
    since_before, measured_at = real_health(lab, "RS2")[1]["checkers"][0]["since_seconds"], time.monotonic()

    # RS1 weight 1 -> 3, RS3 added; RS2 untouched.
    path.write_text(keepalived_conf([real_server("RS1", tcp_check(), weight=3), real_server("RS2", tcp_check()),
                                     real_server("RS3", tcp_check())]))
    t0 = time.monotonic()
    lab.reload_control()
    t = wait_reals(lab, {"RS1": 3, "RS2": 1, "RS3": 1}, 5, "the reloaded file's real servers")
    measure("sighup_reload_listed", t - t0)
    assert lab.control.poll() is None
    wait_until(lambda: checkers_ran(lab, ["RS3"]), DELAY_LOOP + CONNECT_TIMEOUT + 2, "RS3's first check")
    # RS2's checker was not restarted: its state has aged since, the reload did not renew it.
    since_after = real_health(lab, "RS2")[1]["checkers"][0]["since_seconds"]
    assert since_after >= since_before + (time.monotonic() - measured_at) - 0.5, (since_before, since_after)
    assert real_health(lab, "RS3")[1]["state"] == "up"
    # The connections established before the reload got their answers.
    assert held_bodies(lab, held) == ["RS1", "RS2"]
    bodies = [lab.hosts["client"].curl(URL).strip() for _ in range(5)]
    assert sorted(set(bodies)) == ["RS1", "RS2", "RS3"], bodies

    # A real server removed from the file leaves the table and the checks.
    path.write_text(keepalived_conf([real_server("RS1", tcp_check(), weight=3), real_server("RS3", tcp_check())]))
    lab.reload_control()
    wait_reals(lab, {"RS1": 3, "RS3": 1}, 5, "RS2 gone after the second reload")
    assert all(r["address"] != RS["RS2"] for s in lab.health()["services"] for r in s["reals"])
    # A broken file is refused and changes nothing.
    path.write_text("virtual_server {\n")
    lab.reload_control()
    time.sleep(1)
    assert lab.control.poll() is None, lab.log("control.log")
    assert reals(lab) == {RS["RS1"]: 3, RS3: 1}


# ----- 8. the checker's decisions outlive a dataplane restart and a reload ------------------
def test_down_server_stays_out_across_dataplane_restart_and_reload(health_lab):
    lab = health_lab
    start(lab, keepalived_conf([real_server("RS1", tcp_check()), real_server("RS2", tcp_check())]))
    wait_reals(lab, {"RS1": 1, "RS2": 1}, 5, "both listed")
    kill_server(lab, "RS2")
    wait_reals(lab, {"RS1": 1}, DOWN_BOUND + 3, "RS2 out")
    # A restarted dataplane gets the whole configuration again, the checker's state with it:
    # no connection may go to RS2 in between (the checker would only notice it in a round).
    lab.restart_dataplane()
    wait_until(lambda: lab.status().get("dataplane") == "connected", 15, "control back on the dataplane")
    assert reals(lab) == {RS["RS1"]: 1}
    assert [lab.hosts["client"].curl(URL).strip() for _ in range(6)] == ["RS1"] * 6
    # A reload of the same file changes nothing; RS2's health stays.
    lab.reload_control()
    time.sleep(0.5)
    assert reals(lab) == {RS["RS1"]: 1}
    assert real_health(lab, "RS2")[1]["state"] == "removed"
    assert [lab.hosts["client"].curl(URL).strip() for _ in range(4)] == ["RS1"] * 4


# ----- 9. alpha ----------------------------------------------------------------------------
def test_alpha_keeps_a_server_out_until_a_check_passes(health_lab):
    lab = health_lab
    # keepalived's alpha: checkers start down, a real server enters the table only once its
    # check passes. RS2's web server is dead from the start: it must never be listed.
    kill_server(lab, "RS2")
    t0 = time.monotonic()
    start(lab, keepalived_conf([real_server("RS1", tcp_check()), real_server("RS2", tcp_check())],
                               vs_options="    alpha\n"))
    assert RS["RS2"] not in reals(lab)
    t = wait_reals(lab, {"RS1": 1}, 2 * DELAY_LOOP + CONNECT_TIMEOUT + SLACK, "RS1 in after its first check")
    # docs/health.md: the first attempt is 1 s after start plus up to delay_loop.
    measure("alpha_first_up", t - t0, 1 + DELAY_LOOP + SLACK)
    deadline = time.monotonic() + 2 * DELAY_LOOP + DELAY_BEFORE_RETRY
    while time.monotonic() < deadline:
        assert RS["RS2"] not in reals(lab)
        time.sleep(0.1)
    _, rs2 = real_health(lab, "RS2")
    assert rs2["state"] == "removed" and rs2["checkers"][0]["last_result"] == "down", rs2
    restart_server(lab, "RS2")
    wait_reals(lab, {"RS1": 1, "RS2": 1}, UP_BOUND + 2, "RS2 in once its check passes")
