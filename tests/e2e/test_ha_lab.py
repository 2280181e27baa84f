"""Issue 12's HA labs: two dplb directors on one bridge, keepalived VRRP (Debian's, unmodified)
moving the VIPs between them (ha_lab.py has the topology; configs/keepalived/ha-*.conf the
keepalived configuration both keepalived and dplb-control read).

- the seed 004 lab: election, `curl VIP`, kill -9 of the master's dataplane (and preemption
  back), kill -9 of the master's keepalived (and `nopreempt`);
- established connections survive a failover (NAT and FULLNAT, session sync); there, the HA
  families of both directors' /metrics (dplb_vip_owned, dplb_sync_daemon_info, the sync
  counters) against `dplbadm --status` and VRRP's view, before and after the takeover;
- the failover gap in a 1 ms UDP probe stream;
- split brain (VRRP dropped by nftables) and its end;
- a UDP flood to the twins does not make VRRP flap.

Every figure is printed with the prefix HA-MEASURE (meson's e2e-ha2 runs pytest with -s)."""
import json
import re
import sys
import time

import pytest

from exposition import by_label, value
from ha_lab import FULLNAT_PORT, LIP, NAT_CLIENT, SYNC_ID, UDP_PORT, VIP, VIP_NAT, HaLab
from lab import HERE, SYSTEM_PYTHON, wait_until

sys.path.insert(0, str(HERE.parents[1] / "tools"))
import dashboard_queries as dq  # noqa: E402

# keepalived's master-down interval for the backup (priority 90, advert_int 1):
# 3 * 1 + (256 - 90) / 256 = 3.65 s after the last advert it heard. A takeover after a kill -9
# (no priority-0 advert) therefore takes 2.65 to 3.65 s plus the time to notice; the issue asks
# for "within 4 s"; the bound asserted leaves a second for a loaded 2-core machine.
TAKEOVER_BOUND_S = 5.0


def measure(what, value, unit="s"):
    print(f"HA-MEASURE {what}: {value:.3f} {unit}" if isinstance(value, float) else f"HA-MEASURE {what}: {value}")


@pytest.fixture
def ha():
    """make(**HaLab options) -> a built lab; every lab made is closed at the end, also when the
    test or the build fails."""
    labs = []

    def make(**kw):
        lab = HaLab(**kw)
        labs.append(lab)
        lab.__enter__()
        measure("VRRP election (keepalived start to A holding the VIPs)", lab.election_s)
        return lab
    try:
        yield make
    finally:
        for lab in labs:
            lab.close()


def assert_owner(lab, host, address, director):
    """Only `director`'s dataplane answers ARP for `address` (one owner per VIP)."""
    responders = lab.arp_responders(host, address)
    assert responders == {director.mac}, (address, responders, director.name)


def owned(director):
    """(VIPs, FULLNAT local addresses) the director's dataplane serves (docs/ha.md, "VIP
    ownership follows the kernel")."""
    st = director.dataplane_status().get("vip_ownership", {})
    return set(st.get("owned_vips", [])), set(st.get("owned_local_addresses", []))


def requests_ok(lab, host, url, n):
    """n new connections to `url`; their bodies (raises if one fails)."""
    return [host.curl(url).strip() for _ in range(n)]


# ----- a. the seed 004 lab -----------------------------------------------------------------
def test_seed004_kill_dataplane_takeover_and_preemption(ha):
    lab = ha()
    a, b, client = lab.a, lab.b, lab.client
    # One owner per VIP: only the master's dataplane answers ARP for it.
    assert_owner(lab, client, VIP, a)
    assert_owner(lab, lab.nclient, VIP_NAT, a)
    assert not b.holds(VIP) and not b.holds(VIP_NAT)
    assert owned(a) == ({VIP, VIP_NAT}, {LIP}) and owned(b) == (set(), set())
    # curl VIP alternates RS1 / RS2 (seed 004's DR service, rr).
    assert sorted(requests_ok(lab, client, f"http://{VIP}/", 4)) == ["RS1", "RS1", "RS2", "RS2"]
    assert sorted(requests_ok(lab, lab.nclient, f"http://{VIP_NAT}/", 2)) == ["RS1", "RS2"]

    # kill -9 of the master's dataplane: its twin disappears, keepalived goes to FAULT, B stops
    # hearing adverts and takes over after its master-down interval.
    killed = time.monotonic()
    a.kill_dataplane()
    took = lab.takeover(b, killed)
    measure("takeover after kill -9 of the master's dataplane (B holds the VIP)", took)
    first = lab.first_success(client, f"http://{VIP}/", killed)
    measure("first successful request after kill -9 of the master's dataplane", first)
    assert took <= TAKEOVER_BOUND_S, took
    assert b.vrrp_state() == "MASTER" and a.vrrp_state() == "FAULT", (a.transitions(), b.transitions())
    assert lab.neighbour_mac(client, VIP) == b.mac  # keepalived's gratuitous ARP through B's twin
    assert sorted(requests_ok(lab, client, f"http://{VIP}/", 4)) == ["RS1", "RS1", "RS2", "RS2"]
    assert_owner(lab, client, VIP, b)

    # The dataplane comes back. keepalived 2.2.7 does not reopen its VRRP socket on an interface
    # that was deleted and created again (measured: it stays BACKUP, deaf and silent, even
    # with dynamic_interfaces), so keepalived is restarted with its dataplane (docs/operations.md).
    a.restart()
    a.stop_keepalived()
    restarted = time.monotonic()
    a.start_keepalived()
    # Preemption (keepalived's default): A, priority 100, takes the VIPs back from B (90).
    back = lab.takeover(a, restarted)
    wait_until(lambda: not b.holds(VIP) and b.vrrp_state() == "BACKUP", 10, "B to give the VIP back")
    measure("preemption back to A after its keepalived restart", back)
    measure("first successful request after preemption",
            lab.first_success(client, f"http://{VIP}/", restarted) - back)
    assert a.vrrp_state() == "MASTER"
    assert sorted(requests_ok(lab, client, f"http://{VIP}/", 4)) == ["RS1", "RS1", "RS2", "RS2"]
    assert_owner(lab, client, VIP, a)


def test_seed004_kill_keepalived_and_nopreempt(ha):
    lab = ha(nopreempt=True)
    a, b, client = lab.a, lab.b, lab.client
    # nopreempt wants `state BACKUP` on both: the higher priority still wins the first election.
    assert a.vrrp_state() == "MASTER" and b.vrrp_state() == "BACKUP"
    assert sorted(requests_ok(lab, client, f"http://{VIP}/", 2)) == ["RS1", "RS2"]

    # kill -9 of the master's keepalived (VRRP process and parent): no priority-0 advert, so B
    # waits its master-down interval; the VIPs stay on A's twin (nothing removes them).
    killed = time.monotonic()
    a.kill_keepalived()
    took = lab.takeover(b, killed)
    measure("takeover after kill -9 of the master's keepalived", took)
    assert took <= TAKEOVER_BOUND_S, took
    assert a.holds(VIP), "keepalived killed with -9 cannot remove its VIPs"
    # B's gratuitous ARP moved the client; new connections go through B's dataplane.
    assert lab.neighbour_mac(client, VIP) == b.mac
    before = b.workers_sum("rx_packets")
    assert sorted(requests_ok(lab, client, f"http://{VIP}/", 4)) == ["RS1", "RS1", "RS2", "RS2"]
    assert b.workers_sum("rx_packets") >= before + 4 * 3, "the requests did not go through B"
    responders = lab.arp_responders(client, VIP)
    measure("ARP responders for the VIP while A's stale VIP remains", " ".join(sorted(responders)))

    # keepalived restarted on A: it removes the stale VIPs at start, comes up BACKUP, and
    # with nopreempt stays BACKUP although its priority is higher.
    a.start_keepalived()
    wait_until(lambda: not a.holds(VIP) and a.vrrp_state() == "BACKUP", 10, "A's keepalived to start as backup")
    time.sleep(5)  # longer than A's master-down interval (3.61 s): a preempting A would have taken over
    assert a.vrrp_state() == "BACKUP" and not a.holds(VIP), a.transitions()
    assert b.vrrp_state() == "MASTER" and b.holds(VIP), b.transitions()
    assert_owner(lab, client, VIP, b)
    assert sorted(requests_ok(lab, client, f"http://{VIP}/", 2)) == ["RS1", "RS2"]


# ----- b. established connections survive ---------------------------------------------------
STREAMS = 20          # per mode
STREAM_BYTES = 120_000
STREAM_MS = 10_000


def start_sync(lab):
    """ipvsadm's sync daemons on the twins, a master and a backup on each director (docs/ha.md,
    "Why both daemons on every node": each sends what its workers do and installs what the
    other sends, whatever VRRP says)."""
    for d in (lab.a, lab.b):
        for state in ("master", "backup"):
            d.adm("--start-daemon", state, "--mcast-interface", d.twin, "--syncid", str(SYNC_ID))
        measure(f"{d.name}'s sync daemons", " | ".join(d.adm("-L", "--daemon").stdout.strip().splitlines()))


# `dplbadm --status` prints the sync counters as "sync <group>: name=N ..." (docs/ha.md,
# "Counters"); /metrics names them dplb_sync_<name>_total (counters), dplb_<name>_total
# (workers_total, already named sync_*) and dplb_sync_<group>_total{reason} (the error groups).
STATUS_GROUPS = {"counters": lambda k: (f"dplb_sync_{k}_total", None),
                 "workers_total": lambda k: (f"dplb_{k}_total", None),
                 **{g: (lambda k, g=g: (f"dplb_sync_{g}_total", k))
                    for g in ("decode_errors", "image_errors", "resolve_errors")}}


def status_sync(d):
    """({(family, reason): N} of the sync counters, {(state, interface, syncid)} of the
    daemons), as `dplbadm --status` prints them."""
    counters, daemons = {}, set()
    for line in d.adm("--status").stdout.splitlines():
        m = re.match(r"sync (\w+): (.*)$", line)
        if not m:
            continue
        fields = dict(kv.split("=", 1) for kv in m.group(2).split() if "=" in kv)
        if m.group(1) == "daemon":
            daemons.add((fields["state"], fields["mcast_interface"], fields["syncid"]))
        elif m.group(1) in STATUS_GROUPS:
            counters.update({STATUS_GROUPS[m.group(1)](k): int(v) for k, v in fields.items()})
    return counters, daemons


def check_sync_metrics(d):
    """One scrape of `d` against `dplbadm --status` just before and just after it: the same
    sync counters, each between the two readings (they only grow), and the same daemons.
    Returns (the scrape's samples, the counters after)."""
    before, daemons = status_sync(d)
    samples = d.metrics()
    after, daemons_after = status_sync(d)
    scraped = {(n, lbl.get("reason")): v for n, lbl, v in samples
               if n.startswith("dplb_sync_") and n != "dplb_sync_daemon_info"}
    assert before and set(scraped) == set(before) == set(after), set(scraped) ^ set(before)
    moved = {k: (before[k], scraped[k], after[k]) for k in before if not before[k] <= scraped[k] <= after[k]}
    assert not moved, (d.name, moved)
    info = {(lbl["state"], lbl["interface"], lbl["syncid"]) for n, lbl, v in samples
            if n == "dplb_sync_daemon_info" and v == 1}
    assert info == daemons == daemons_after == {(s, d.twin, str(SYNC_ID)) for s in ("master", "backup")}, \
        (d.name, info, daemons)
    return samples, after


def listed_client_ports(text, vip_port):
    """Client ports of nclient's ESTABLISHED connections to `vip_port` in a `-L -n -c` text."""
    ports = set()
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 5 and f[0] == "TCP" and f[2] == "ESTABLISHED" and f[4] == vip_port \
                and f[3].startswith(f"{NAT_CLIENT}:"):
            ports.add(int(f[3].split(":")[1]))
    return ports


def test_connections_survive_failover_nat_and_fullnat(ha):
    lab = ha(metrics=True)
    a, b = lab.a, lab.b
    start_sync(lab)
    ports = {"nat": 80, "fullnat": FULLNAT_PORT}
    client = lab.nclient.spawn(SYSTEM_PYTHON, HERE / "stream_client.py", VIP_NAT, ",".join(map(str, ports.values())),
                               str(STREAMS), str(STREAM_BYTES), str(STREAM_MS), "60", log="streams.log")

    def opened():
        return [line.split() for line in lab.log("streams.log").splitlines() if line.startswith("open ")]
    wait_until(lambda: len(opened()) == 2 * STREAMS or client.poll() is not None, 20, "every stream to start")
    assert len(opened()) == 2 * STREAMS, lab.log("streams.log")
    by_mode = {mode: {int(o[3]) for o in opened() if int(o[1]) == port} for mode, port in ports.items()}

    # Before the failover the backup lists every one of them (synchronised from A).
    def synced():
        text = b.connections()
        return all(by_mode[m] <= listed_client_ports(text, f"{VIP_NAT}:{p}") for m, p in ports.items())
    t0 = time.monotonic()
    try:
        wait_until(synced, 5, "B to list the 40 connections")
    finally:
        text = b.connections()
        for mode, port in ports.items():
            measure(f"{mode}: connections listed by B before the failover",
                    f"{len(by_mode[mode] & listed_client_ports(text, f'{VIP_NAT}:{port}'))}/{STREAMS}")
    measure("sync delay (streams open to B listing all)", time.monotonic() - t0)
    print("\n".join(text.splitlines()[:6]))

    # /metrics (docs/operations.md): the HA families on both directors' live pages agree with
    # `dplbadm --status`; A's master sent what B's backup received and installed.
    page_a, st_a = check_sync_metrics(a)
    page_b, st_b = check_sync_metrics(b)
    for key in (("dplb_sync_messages_sent_total", None), ("dplb_sync_records_sent_total", None)):
        assert value(page_a, key[0]) > 0, (key, st_a)
    for key in ("dplb_sync_messages_received_total", "dplb_sync_records_received_total"):
        assert value(page_b, key) > 0, (key, st_b)
    assert value(page_b, "dplb_sync_installed_total") >= 2 * STREAMS, st_b  # each connection B lists
    measure("A's scraped sync sent (messages, records)",
            f"{value(page_a, 'dplb_sync_messages_sent_total'):.0f}, {value(page_a, 'dplb_sync_records_sent_total'):.0f}")
    measure("B's scraped sync received (messages, records), installed",
            f"{value(page_b, 'dplb_sync_messages_received_total'):.0f}, "
            f"{value(page_b, 'dplb_sync_records_received_total'):.0f}, {value(page_b, 'dplb_sync_installed_total'):.0f}")
    # VIP ownership ("kernel"): A's twin holds both VIPs, B's neither.
    for page, held in ((page_a, 1), (page_b, 0)):
        assert by_label(page, "dplb_vip_owned", "vip") == {VIP: held, VIP_NAT: held}
    # Every family the dashboard's HA row queries is on these pages.
    names = {n for n, _, _ in page_a + page_b}
    for row, p in dq.panels_by_row(dq.load()):
        for t in p.get("targets", []) if row == dq.HA_ROW else ():
            assert set(re.findall(r"\bdplb_\w+", t["expr"])) <= names, (p["title"], t["expr"])

    killed = time.monotonic()
    a.kill_dataplane()
    measure("takeover (B holds the VIPs)", lab.takeover(b, killed, address=VIP_NAT))
    # The local address moves with its VIP (the dataplane reads the twin's addresses over
    # rtnetlink: on a loaded machine a moment after keepalived added them).
    wait_until(lambda: owned(b) == ({VIP, VIP_NAT}, {LIP}), 5, "B's dataplane to own the VIPs and the local address")
    page_b = b.metrics()
    assert by_label(page_b, "dplb_vip_owned", "vip") == {VIP: 1, VIP_NAT: 1}
    # A's dplb-control, its dataplane gone: only its own families remain.
    page_a = a.metrics()
    assert value(page_a, "dplb_dataplane_up") == 0
    assert not [n for n, _, _ in page_a if n == "dplb_vip_owned" or n.startswith("dplb_sync_")]
    client.wait(timeout=90)
    results = json.loads(lab.log("streams.log").splitlines()[-1])
    for mode, port in ports.items():
        mine = [r for r in results if r["port"] == port]
        good = [r for r in mine if r["ok"]]
        measure(f"{mode}: streams intact after the failover", f"{len(good)}/{len(mine)}")
        if good:
            measure(f"{mode}: longest stream (10 s nominal)", max(r["seconds"] for r in good))
            measure(f"{mode}: longest pause within a stream", max(r["max_pause"] for r in good))
    bad = [r for r in results if not r["ok"]]
    # The pause is the servers' TCP retransmission backoff (0.2, 0.6, 1.4, 3.0, 6.2, 12.6 s
    # after the loss began) against the takeover: the first retransmission after B holds the
    # VIPs gets through, unless B's dataplane, which had never talked to the client or the
    # real servers, drops it while resolving their MACs (neighbor_unresolved: 16 packets are
    # held per neighbour, and every connection retransmits at the same moment).
    measure("pauses within the streams (s, sorted)", " ".join(f"{x:.1f}" for x in sorted(r["max_pause"] for r in results)))
    measure("B's drops after the failover", json.dumps(counters(b)["drops"]))
    sync = b.dataplane_status().get("sync", {})
    measure("B's sync workers_total", json.dumps(sync.get("workers_total", {})))
    measure("B's sync counters (non-zero)", json.dumps({k: v for k, v in sync.get("counters", {}).items() if v}))
    assert len(results) == 2 * STREAMS and not bad, bad


# ----- c. the failover gap in a 1 ms UDP probe stream ----------------------------------------
def test_udp_probe_gap(ha):
    lab = ha()
    probe = lab.nclient.spawn(SYSTEM_PYTHON, HERE / "udp_probe.py", VIP_NAT, str(UDP_PORT), "9", "1", log="probe.log")
    started = time.monotonic()
    wait_until(lambda: "first answer" in lab.log("probe.log") or probe.poll() is not None, 5, "the probe's first answer")
    time.sleep(1.5)
    killed = time.monotonic()
    lab.a.kill_dataplane()
    measure("takeover (B holds the VIPs)", lab.takeover(lab.b, killed, address=VIP_NAT))
    probe.wait(timeout=30)
    r = json.loads(lab.log("probe.log").splitlines()[-1])
    kill_at = killed - started
    measure("UDP probes sent / answered", f"{r['sent']} / {r['answered']}")
    measure("UDP probe gap at the failover", r["max_gap_ms"] / 1000)
    # The longest silence is the failover's: it starts around the kill and answers resume.
    assert r["gap_start"] is not None and r["gap_start"] <= kill_at + 0.5, (r, kill_at)
    assert r["last_answer"] > r["gap_start"] + r["max_gap_ms"] / 1000 - 0.01, r
    assert r["max_gap_ms"] / 1000 <= TAKEOVER_BOUND_S + 1, r


# ----- d. split brain -----------------------------------------------------------------------
DROP_VRRP = """
table inet splitbrain {
    chain input { type filter hook input priority 0; ip protocol vrrp drop; }
    chain output { type filter hook output priority 0; ip protocol vrrp drop; }
}
"""


def counters(d):
    st = d.dataplane_status()
    keys = ("exception_up_control", "exception_up_other", "arp_replies", "rx_packets", "tx_packets")
    picked = {k: d.workers_sum(k) for k in keys}
    picked["exception_down"] = st.get("main", {}).get("exception_down")
    picked["drops"] = {k: v for k, v in st.get("drops", {}).items() if v}
    for k in ("vip_ownership", "vips"):
        if k in st:
            picked[k] = st[k]
    return picked


def test_split_brain_and_recovery(ha):
    lab = ha()
    a, b, client = lab.a, lab.b, lab.client
    # VRRP dropped in A's namespace, both ways: B stops hearing A and becomes master too.
    a.shell.nft(DROP_VRRP)
    cut = time.monotonic()
    measure("second master after VRRP is cut", lab.takeover(b, cut))
    assert a.vrrp_state() == "MASTER" and a.holds(VIP) and b.vrrp_state() == "MASTER" and b.holds(VIP)
    responders = lab.arp_responders(client, VIP)
    measure("ARP responders for the VIP during split brain", " ".join(sorted(responders)))
    assert responders == {a.mac, b.mac}
    ok = sum(client.run("curl", "-sS", "--fail", "-m", "2", f"http://{VIP}/", check=False).returncode == 0
             for _ in range(5))
    measure("requests succeeding during split brain", f"{ok}/5")
    print("A during split brain:", json.dumps(counters(a)))
    print("B during split brain:", json.dumps(counters(b)))

    # VRRP back: B hears A's higher priority and returns to backup, A sends gratuitous ARPs.
    a.shell.run("nft", "delete", "table", "inet", "splitbrain")
    restored = time.monotonic()
    wait_until(lambda: b.vrrp_state() == "BACKUP" and not b.holds(VIP), 10, "B to return to backup", interval=0.02)
    measure("one master again after VRRP is restored", time.monotonic() - restored)
    # keepalived's vrrp_higher_prio_send_advert + vrrp_garp_lower_prio_repeat (the samples'
    # global_defs): B's last advert makes A send gratuitous ARPs again, so the client leaves
    # B's MAC at once rather than when its ARP entry expires (5.7 s measured without them).
    back = lab.first_success(client, f"http://{VIP}/", restored)
    measure("first successful request after the restore", back)
    assert back <= 2.5, back
    assert a.vrrp_state() == "MASTER" and a.holds(VIP)
    assert_owner(lab, client, VIP, a)
    # No lasting blackhole: every request succeeds, through A.
    assert sorted(requests_ok(lab, client, f"http://{VIP}/", 4)) == ["RS1", "RS1", "RS2", "RS2"]
    assert lab.neighbour_mac(client, VIP) == a.mac
    measure("A's transitions", " ".join(a.transitions()))
    measure("B's transitions", " ".join(b.transitions()))
    print("A after:", json.dumps(counters(a)))
    print("B after:", json.dumps(counters(b)))


# ----- e. exception-path flood ----------------------------------------------------------------
EXCEPTION_PPS = 200  # per worker: a paced python flood exceeds it many times over
FLOOD = """
import socket, sys, time
targets, seconds, pps = sys.argv[1].split(","), float(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
n, start = 0, time.monotonic()
while time.monotonic() - start < seconds:
    due = int((time.monotonic() - start) * pps)
    while n < due:
        s.sendto(b"x" * 32, (targets[n % len(targets)], 9))
        n += 1
    time.sleep(0.002)
print(n)
"""


def test_flood_to_twins_does_not_flap_vrrp(ha):
    lab = ha(dataplane_extra={"exception_pps": EXCEPTION_PPS})
    a, b = lab.a, lab.b
    before = {d.name: len(d.transitions()) for d in (a, b)}
    limited = {d.name: d.drops().get("exception_rate_limited", 0) for d in (a, b)}
    control_up = {d.name: d.workers_sum("exception_up_control") for d in (a, b)}
    # 5000 datagrams a second to the twins' own addresses (half to each), 6 s: several
    # master-down intervals, 12 times each twin's budget.
    flood = lab.client.spawn(SYSTEM_PYTHON, "-c", FLOOD, f"{a.address},{b.address}", "6", "5000", log="flood.log")
    flood.wait(timeout=30)
    time.sleep(1)  # one more advert interval
    sent = int(lab.log("flood.log").split()[-1])
    measure("flood datagrams sent", sent)
    for d in (a, b):
        measure(f"{d.name}: exception frames rate-limited during the flood",
                d.drops().get("exception_rate_limited", 0) - limited[d.name])
        measure(f"{d.name}: control frames up during the flood (VRRP, ARP)",
                d.workers_sum("exception_up_control") - control_up[d.name])
        measure(f"{d.name}: VRRP transitions during the flood", len(d.transitions()) - before[d.name])
    assert len(a.transitions()) == before["A"] and len(b.transitions()) == before["B"], \
        (a.transitions(), b.transitions())
    assert a.vrrp_state() == "MASTER" and a.holds(VIP) and b.vrrp_state() == "BACKUP" and not b.holds(VIP)
    for d in (a, b):
        assert d.drops().get("exception_rate_limited", 0) > limited[d.name], "the flood did not exceed the budget"
        assert d.drops().get("exception_control_rate_limited", 0) == 0
    assert sorted(requests_ok(lab, lab.client, f"http://{VIP}/", 2)) == ["RS1", "RS2"]
