"""Issue 12, session synchronisation with one real dataplane and a stand-in peer
(sync_peer.py) on the same segment (docs/ha.md, "The engine").

The dataplane's port `lan` (192.168.228.1/24) has a kernel twin moved into its own namespace
(kernel_twin.netns), where the sync daemon's socket lives; the peer host 192.168.228.10 is a
client of the VIP and the other director's sync daemon.

- master: connections a client opens through the dataplane are streamed to the group as IPVS
  v1 records; a full_table_request is answered with every session, then full_table_end with
  the count.
- backup: the dataplane asks for the full table when its daemon starts; records the peer
  sends are installed in the owning worker's table (listed by the dataplane's `connections`,
  counted in `status`); a full_table_end completes the request.

Run with one worker and with two."""
import json
import signal
import socket
import struct
import time

import pytest

import logfmt
from lab import HERE, SYSTEM_PYTHON, Host, Lab, sh, wait_until

PORT_ADDR = "192.168.228.1"
PEER = "192.168.228.10"
VIP = "192.168.228.100"
REAL = "192.168.228.20"
SYNCID = 5


def sync_status(lab):
    return lab.dataplane_request({"cmd": "status"})["sync"]


def daemons_running(lab):
    """The engine has picked up the applied daemons (it does so on the main lcore, a little
    after `apply` answers) and opened their sockets."""
    daemons = sync_status(lab)["daemons"]
    return bool(daemons) and all(d["running"] for d in daemons)


def apply(lab, state):
    cfg = {"services": [
        {"protocol": "udp", "address": VIP, "port": 53, "scheduler": "rr",
         "real_servers": [{"address": REAL, "port": 53, "forward": "nat"}]},
        {"protocol": "tcp", "address": VIP, "port": 80, "scheduler": "rr",
         "real_servers": [{"address": REAL, "port": 80, "forward": "nat"}]}],
        "sync_daemons": [{"state": state, "mcast_interface": lab.twin_if, "syncid": SYNCID}]}
    rep = lab.dataplane_request({"cmd": "apply", "generation": 1, "config": cfg})
    assert rep.get("ok"), rep
    wait_until(lambda: daemons_running(lab), 10, "the sync daemon's socket")
    d = sync_status(lab)["daemons"][0]
    assert d["state"] == state and d["netns"] == lab.kernel.ns and d["syncid"] == SYNCID


def peer_output(lab, name):
    return [json.loads(line) for line in lab.log(name).splitlines() if line.startswith("{")]


def start_peer(lab, name, seconds, *args):
    p = lab.hosts["peer"].spawn(SYSTEM_PYTHON, HERE / "sync_peer.py", "eth0", seconds, *args, log=name)
    wait_until(lambda: any(o.get("ready") for o in peer_output(lab, name)), 10, "the sync peer")
    return p


def start_with_twin(lab, ports, address, workers=1):
    """Starts the dataplane with a kernel twin on its first port, which the dataplane moves
    into a namespace of its own (kernel_twin.netns); gives the twin `address` (CIDR) there."""
    lab.twin_if = f"k{lab.short}0"
    ns = lab.netns("kern")
    lab.start_dataplane(ports, workers=workers, twins={ports[0][0]: {"name": lab.twin_if, "netns": ns}})
    wait_until(lambda: sh("ip", "-n", ns, "link", "show", lab.twin_if, check=False).returncode == 0, 10,
               f"twin {lab.twin_if} in {ns}")
    sh("ip", "-n", ns, "addr", "add", address, "dev", lab.twin_if)
    sh("ip", "-n", ns, "link", "set", lab.twin_if, "up")
    lab.kernel = Host(lab, "kern", ns, address.split("/")[0])


@pytest.fixture(params=[1, 2], ids=["1-worker", "2-workers"])
def sync_lab(request):
    lab = Lab()
    try:
        lab.__enter__()  # inside: a failure after it made the switch namespace still closes the lab
        lab.segment("c")
        lab.host("peer", "c", f"{PEER}/24")
        lab.workers = request.param
        start_with_twin(lab, [("lan", "c", f"{PORT_ADDR}/24")], f"{PORT_ADDR}/24", workers=request.param)
        yield lab
    finally:
        lab.close()


def test_master_streams_sessions_and_answers_a_full_table_request(sync_lab):
    lab = sync_lab
    apply(lab, "master")
    peer = start_peer(lab, "peer1.log", 8, "--syncid", SYNCID, "--request", "4242@4")
    # 12 UDP flows from distinct client ports: each is a new session on the master.
    lab.hosts["peer"].run(SYSTEM_PYTHON, "-c", f"""
import socket
for p in range(41000, 41012):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("{PEER}", p))
    s.sendto(b"q", ("{VIP}", 53))
    s.close()
""")
    assert peer.wait(timeout=20) == 0, lab.log("peer1.log")
    out = [o for o in peer_output(lab, "peer1.log") if "syncid" in o]
    assert out, "no sync message reached the peer"
    assert all(o["syncid"] == SYNCID and o["version"] == 1 and o["size"] == o["len"] for o in out)
    recs = [r for o in out for r in o["records"]]
    mine = [r for r in recs if r["vaddr"] == VIP and r["vport"] == 53 and r["caddr"] == PEER]
    assert {r["cport"] for r in mine} == set(range(41000, 41012)), (out, lab.dataplane_request({"cmd": "status"}))
    for r in mine:
        assert r["protocol"] == 17 and r["daddr"] == REAL and r["dport"] == 53
        assert r["flags"] & 7 == 0  # IP_VS_CONN_F_MASQ
        assert 1 <= r["timeout"] <= 300
    # The dump: every session again after the request, then the end marker with the count.
    ends = [o["control"] for o in out if "control" in o and o["control"]["kind"] == 2]
    assert len(ends) == 1, out
    assert ends[0]["request_id"] == 4242 and ends[0]["nworkers"] == lab.workers
    assert ends[0]["records"] == 12
    end_at = next(i for i, o in enumerate(out) if "control" in o and o["control"]["kind"] == 2)
    dumped = [r for o in out[:end_at] for r in o["records"]]
    assert len(dumped) >= 24  # 12 created, 12 dumped
    c = sync_status(lab)["counters"]
    assert c["full_table_requests_received"] == 1 and c["full_table_ends_sent"] == 1
    assert c["records_sent"] >= 24 and c["send_errors"] == 0
    assert sync_status(lab)["workers_total"]["sync_events_lost"] == 0


def nat_record(cport, state=1, timeout=600):
    """A v1 record of an ESTABLISHED NAT TCP connection PEER:cport -> VIP:80 -> REAL:80."""
    a = socket.inet_aton
    return struct.pack("!BBHIHHHHII", 0, 6, 36, 0, state, cport, 80, 80, 0, timeout) + a(PEER) + a(VIP) + a(REAL)


def test_backup_asks_for_the_table_and_installs_what_it_receives(sync_lab):
    lab = sync_lab
    # The peer listens first: the backup's full_table_request is sent when its daemon starts.
    peer = start_peer(lab, "peer2.log", 6)
    apply(lab, "backup")
    wait_until(lambda: any("control" in o for o in peer_output(lab, "peer2.log")), 10, "a full_table_request")
    req = next(o for o in peer_output(lab, "peer2.log") if "control" in o)
    assert req["control"]["kind"] == 1 and req["syncid"] == SYNCID
    assert req["control"]["nworkers"] == lab.workers
    request_id = req["control"]["request_id"]
    peer.wait(timeout=15)

    records = [nat_record(50000 + i) for i in range(6)]
    body = b""
    for r in records:
        body += r  # 36 bytes each: already aligned
    msg = struct.pack("!BBHBBH", 0, SYNCID, 8 + len(body), len(records), 1, 0) + body
    other = struct.pack("!BBHBBH", 0, SYNCID + 1, 8 + 36, 1, 1, 0) + nat_record(51000)  # another syncid
    end = struct.pack("!BBHBBH", 0, SYNCID, 28, 0, 1, 0) + b"dplb" + struct.pack("!BBHIHHI", 2, 1, 20, request_id, lab.workers, 0, 6)
    for name, data in (("msg.bin", msg), ("other.bin", other), ("end.bin", end)):
        (lab.tmp / name).write_bytes(data)
    peer = start_peer(lab, "peer3.log", 3, "--send", f"{lab.tmp / 'msg.bin'}@0.5",
                      "--send", f"{lab.tmp / 'other.bin'}@0.6", "--send", f"{lab.tmp / 'end.bin'}@1")
    assert peer.wait(timeout=15) == 0, lab.log("peer3.log")

    def installed():
        conns = lab.dataplane_request({"cmd": "connections"})["connections"]
        return [c for c in conns if c["virtual"] == f"{VIP}:80"]
    wait_until(lambda: len(installed()) == 6, 10, "the synced connections")
    conns = installed()
    assert {c["client"] for c in conns} == {f"{PEER}:{50000 + i}" for i in range(6)}
    assert all(c["state"] == "ESTABLISHED" and c["real"] == f"{REAL}:80" for c in conns)
    # 600 s from the record, plus the grace, counted from when it arrived.
    assert all(590_000 <= c["expires_ms"] <= 603_000 for c in conns)
    st = sync_status(lab)
    assert st["counters"]["installs_queued"] == 6
    assert st["counters"]["wrong_syncid"] == 1
    # docs/operations.md, "Logs": the daemon's start is one of the dataplane's events.
    started = [l for l in logfmt.parse_log(lab.log("dataplane.log"), "dplb-dataplane")
               if l.get("event") == "sync_daemon_started"]
    assert started and (started[-1]["state"], started[-1]["syncid"]) == ("backup", str(SYNCID)), started
    assert st["workers_total"]["sync_installed"] == 6
    wait_until(lambda: sync_status(lab)["daemons"][0]["table_complete"], 5, "the end of the full table")
    assert sync_status(lab)["counters"]["full_table_ends_received"] == 1


# ----- two dataplanes: a connection opened through the master survives on the backup -----

PAIR = "192.168.231"
ECHO_PORT = 7007

ECHO_SERVER = """
import socket, sys, threading
def serve(c):
    with c:
        while True:
            d = c.recv(65536)
            if not d:
                return
            c.sendall(d)
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2])))
l.listen(16)
while True:
    threading.Thread(target=serve, args=(l.accept()[0],), daemon=True).start()
"""

# One long-lived TCP connection: a numbered 32-byte message every 100 ms, each echoed back
# intact, for SECONDS; prints "ok N" or raises.
ECHO_CLIENT = """
import socket, sys, time
vip, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.create_connection((vip, port), timeout=10)
print("connected", s.getsockname()[1], flush=True)
n, start = 0, time.monotonic()
while time.monotonic() - start < seconds:
    msg = b"%032d" % n
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        chunk = s.recv(len(msg) - len(got))
        if not chunk:
            raise SystemExit("closed by the peer after %d messages" % n)
        got += chunk
    assert got == msg, (got, msg)
    n += 1
    time.sleep(0.1)
print("ok", n, flush=True)
"""


SERVERS = "192.168.232"
GATEWAY = f"{SERVERS}.254"  # the real server's default route (NAT): a neighbour set by hand


@pytest.fixture
def pair_lab():
    """Clients on segment c, the real server on segment s behind the directors; two
    dataplanes (A .1, B .2 on both), each port `lan` with a kernel twin in its own namespace."""
    a = Lab()
    b = Lab()  # on A's switch and segments, with its own MACs, namespaces and processes
    try:
        a.__enter__()  # inside: a failure after it made the switch namespace still closes the lab
        b.switch, b.segments, b.mac_tag = a.switch, a.segments, "01"
        a.segment("c")
        a.segment("s")
        a.host("client", "c", f"{PAIR}.10/24")
        a.host("real", "s", f"{SERVERS}.20/24", gateway=GATEWAY)
        for lab, n in ((a, 1), (b, 2)):
            start_with_twin(lab, [("lan", "c", f"{PAIR}.{n}/24"), ("srv", "s", f"{SERVERS}.{n}/24")], f"{PAIR}.{n}/24")
        yield a, b
    finally:
        b.close()
        a.close()


def apply_pair(lab, state, mode):
    svc = {"protocol": "tcp", "address": f"{PAIR}.100", "port": 80, "scheduler": "rr",
           "real_servers": [{"address": f"{SERVERS}.20", "port": ECHO_PORT, "forward": mode}]}
    if mode == "fullnat":
        svc["local_addresses"] = [f"{SERVERS}.200"]
    cfg = {"services": [svc], "sync_daemons": [{"state": state, "mcast_interface": lab.twin_if, "syncid": 1}]}
    rep = lab.dataplane_request({"cmd": "apply", "generation": 1, "config": cfg})
    assert rep.get("ok"), rep
    wait_until(lambda: daemons_running(lab), 10, "the sync daemon's socket")


@pytest.mark.parametrize("mode", ["fullnat", "nat"])
def test_a_connection_through_the_master_continues_through_the_backup(pair_lab, mode):
    a, b = pair_lab
    client, real = a.hosts["client"], a.hosts["real"]
    vip = f"{PAIR}.100"
    # What the real server sends its replies to: the local address (FULLNAT) or its gateway (NAT).
    upstream = f"{SERVERS}.200" if mode == "fullnat" else GATEWAY
    real.spawn(SYSTEM_PYTHON, "-c", ECHO_SERVER, f"{SERVERS}.20", ECHO_PORT, log="echo.log")
    # Both directors answer ARP for the VIP and the local address (no VRRP here): the client
    # and the real server are pointed at one of them by hand, as a takeover's gratuitous ARP would.
    def point_at(tag):
        client.run("ip", "neigh", "replace", vip, "lladdr", f"02:dd:00:{tag}:00:01", "dev", "eth0", "nud", "permanent")
        real.run("ip", "neigh", "replace", upstream, "lladdr", f"02:dd:00:{tag}:01:01", "dev", "eth0", "nud", "permanent")
    point_at("00")
    apply_pair(a, "master", mode)
    wait_until(lambda: real.run("ss", "-ltn", check=False).stdout.count(f":{ECHO_PORT}") > 0, 10, "the echo server")
    conn = client.spawn(SYSTEM_PYTHON, "-c", ECHO_CLIENT, vip, 80, 14, log="client.log")
    wait_until(lambda: "connected" in a.log("client.log"), 10, "the connection through the master")

    # The backup starts after the connection: it learns it from the full-table dump, then
    # from the stream.
    apply_pair(b, "backup", mode)

    def on(lab):
        conns = lab.dataplane_request({"cmd": "connections"})["connections"]
        return [c for c in conns if c["virtual"] == f"{vip}:80" and not c["template"]]
    wait_until(lambda: len(on(b)) == 1 and on(b)[0]["state"] == "ESTABLISHED", 10, "the connection on the backup")
    master_conn, backup_conn = on(a)[0], on(b)[0]
    for k in ("client", "real", "local", "forward"):
        assert backup_conn.get(k) == master_conn.get(k), (master_conn, backup_conn)
    assert sync_status(b)["daemons"][0]["table_complete"]
    assert sync_status(a)["counters"]["full_table_ends_sent"] == 1

    # Takeover: the master's dataplane dies, its neighbours now reach the backup.
    def rx(lab):
        return sum(w["rx_packets"] for w in lab.dataplane_request({"cmd": "status"})["workers"])
    time.sleep(2)
    a.stop_dataplane(signal.SIGKILL)
    point_at("01")
    rx_before = rx(b)
    assert conn.wait(timeout=30) == 0, a.log("client.log")
    out = a.log("client.log")
    assert "ok " in out, out
    assert int(out.split("ok ")[1].split()[0]) >= 100  # 14 s of messages, every one echoed
    # The rest of the conversation (~80 messages, each a segment both ways plus ACKs) went
    # through the backup.
    assert rx(b) - rx_before > 100
    assert sync_status(b)["workers_total"]["sync_installed"] >= 1
