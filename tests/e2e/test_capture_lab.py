"""Packet capture with dpdk-dumpcap (`dplbadm --capture`) and dplb's DPDK telemetry
commands (`dpdk-telemetry.py`) on a running dataplane (docs/operations.md, "Capturing
packets" and "DPDK telemetry").

The capture lab runs the dataplane without --in-memory (a secondary process can attach only
to a primary that shares its memory); Lab removes its hugepage files and run directory also
after a failure. The telemetry lab runs with --in-memory, as every other lab: telemetry works
there, capture reports itself unavailable.
"""
import collections
import json
import signal
import struct
import time

import pytest

from conftest import RS, VIP, two_arm_lab
from lab import DRIVER_CPU, DPLBADM, read_pcap, sh, wait_until

TELEMETRY = "/usr/bin/dpdk-telemetry.py"


@pytest.fixture
def shared_lab():
    lab = two_arm_lab(clients=2, in_memory=False)
    try:
        yield lab
    finally:
        lab.close()


@pytest.fixture
def lab2():
    lab = two_arm_lab(clients=2)
    try:
        yield lab
    finally:
        lab.close()


def nat_service(lab):
    lab.adm("-A", "-t", f"{VIP}:80", "-s", "rr")
    for rs in RS.values():
        lab.adm("-a", "-t", f"{VIP}:80", "-r", f"{rs}:80", "-m")


def pcapng_directions(path):
    """The direction of each packet of a pcapng file, in order: "in", "out" or None, from the
    epb_flags option (code 2, bits 0-1) of its Enhanced Packet Block."""
    data = path.read_bytes()
    out, pos, endian = [], 0, "<"
    while pos + 12 <= len(data):
        btype, blen = struct.unpack_from(endian + "II", data, pos)
        if btype == 0x0A0D0D0A:  # section header: its byte-order magic decides the endianness
            endian = "<" if data[pos + 8:pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            blen = struct.unpack_from(endian + "I", data, pos + 4)[0]
        elif btype == 6:
            caplen = struct.unpack_from(endian + "I", data, pos + 20)[0]
            opt = pos + 28 + (caplen + 3) // 4 * 4
            direction = None
            while opt + 4 <= pos + blen - 4:
                code, olen = struct.unpack_from(endian + "HH", data, opt)
                if code == 0:
                    break
                if code == 2:
                    direction = {1: "in", 2: "out"}.get(struct.unpack_from(endian + "I", data, opt + 4)[0] & 3)
                opt += 4 + (olen + 3) // 4 * 4
            out.append(direction)
        pos += blen
    return out


def test_capture_selects_one_clients_packets_on_the_server_port(shared_lab):
    lab = shared_lab
    nat_service(lab)
    st = lab.dataplane_status()
    assert st["capture"] == {"available": True, "file_prefix": lab.eal_prefix}, st["capture"]
    text = lab.adm("--status").stdout
    assert f"capture: available (dpdk-dumpcap --file-prefix={lab.eal_prefix})" in text, text

    # Bad input is refused before anything runs: a filter libpcap cannot compile, a port
    # the dataplane does not have.
    bad = lab.adm("--capture", "server", "-f", "host and and", check=False)
    assert bad.returncode == 2 and "capture filter 'host and and': can't parse filter expression: syntax error" in bad.stderr, bad.stderr
    bad = lab.adm("--capture", "dmz", "-c", "1", check=False)
    assert bad.returncode == 1 and "no dataplane port 'dmz' (ports: client, server)" in bad.stderr, bad.stderr

    c1, c2 = lab.hosts["client"], lab.hosts["client1"]
    # NAT: on the server side the packets still carry the client's address, so a filter on
    # it selects one client's connections on the server port.
    bpf = f"host {c1.address} and tcp port 80"
    # What the real servers see, for the comparison: every TCP packet of port 80.
    kernel = {name: lab.capture(lab.hosts[name], f"{name}.pcap", "tcp port 80") for name in ("rs1", "rs2")}
    out = lab.tmp / "server.pcapng"
    dumpcap = lab.spawn(["taskset", "-c", DRIVER_CPU, DPLBADM, "--socket", lab.control_socket, "--capture", "server",
                         "-f", bpf, "--duration", "60", "-w", out], log="dumpcap.log")
    # dpdk-dumpcap starts counting (on stderr; its stdout is buffered) once the dataplane has
    # enabled its rx/tx callbacks.
    wait_until(lambda: "Packets captured:" in lab.log("dumpcap.log") or dumpcap.poll() is not None, 30,
               "dpdk-dumpcap to attach")
    assert dumpcap.poll() is None, lab.log("dumpcap.log")
    log = lab.log("dumpcap.log")
    assert (f"dplbadm: running dpdk-dumpcap --file-prefix={lab.eal_prefix} -i 1 -p -f '{bpf}' -c 1000 "
            f"-a duration:60 -w {out}") in log, log

    for _ in range(4):
        for client in (c1, c2):
            assert client.curl(f"http://{VIP}/").strip() in ("RS1", "RS2")
    time.sleep(1)  # the last packets through dumpcap's ring and tcpdump's buffer
    lab.terminate(dumpcap, signal.SIGINT)  # dpdk-dumpcap's Ctrl-C: stops, writes its counts
    assert dumpcap.returncode == 0, lab.log("dumpcap.log")
    for p, _ in kernel.values():
        lab.terminate(p)

    captured = read_pcap(out)
    seen = [pkt for _, path in kernel.values() for pkt in read_pcap(path)]
    mine = [pkt for pkt in seen if c1.address in (pkt.get("src"), pkt.get("dst"))]
    others = [pkt for pkt in seen if c2.address in (pkt.get("src"), pkt.get("dst"))]
    assert len(mine) >= 4 * 6 and len(others) >= 4 * 6, (len(mine), len(others))
    # Every captured packet matches the filter, the other client's are absent, and the
    # capture holds exactly the packets the real servers exchanged with client 1, byte for byte.
    for pkt in captured:
        assert c1.address in (pkt["src"], pkt["dst"]) and 80 in (pkt["sport"], pkt["dport"]), pkt
        assert c2.address not in (pkt["src"], pkt["dst"]), pkt
    assert len(captured) == len(mine), (len(captured), len(mine))
    assert collections.Counter(p["hex"] for p in captured) == collections.Counter(p["hex"] for p in mine)
    # Both directions of the port: sent toward a real server (tx) and received from one (rx).
    directions = pcapng_directions(out)
    assert len(directions) == len(captured)
    for pkt, direction in zip(captured, directions):
        assert direction == ("out" if pkt["dst"] in RS.values() else "in"), (pkt, direction)
    assert "Packets received/dropped on interface 'net_tap1'" in lab.log("dumpcap.log"), lab.log("dumpcap.log")

    # A capture that nobody stops ends by itself at its bound.
    started = time.monotonic()
    r = lab.adm("--capture", "server", "-f", "udp port 9", "--duration", "2", "-w", lab.tmp / "empty.pcapng",
                check=False)
    assert r.returncode == 0 and time.monotonic() - started < 20, r.stderr
    assert read_pcap(lab.tmp / "empty.pcapng") == []


def telemetry(lab, *queries):
    """dpdk-telemetry.py against the lab's dataplane: one reply (the command's value) per query."""
    r = sh("taskset", "-c", DRIVER_CPU, "python3", TELEMETRY, "-f", lab.eal_prefix, input="\n".join(queries) + "\n",
           timeout=30)
    replies = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    assert len(replies) == len(queries), r.stdout + r.stderr
    return [reply[q.split(",")[0]] for reply, q in zip(replies, queries)]


def test_telemetry_answers_what_dplbadm_shows(lab2):
    lab = lab2
    nat_service(lab)
    st = lab.dataplane_status()
    # The labs run the dataplane with --in-memory: telemetry works, capture cannot.
    assert st["telemetry"] == {"available": True, "socket": f"/var/run/dpdk/{lab.eal_prefix}/dpdk_telemetry.v2"}
    assert st["capture"]["available"] is False
    assert "--in-memory" in st["capture"]["reason"], st["capture"]
    bad = lab.adm("--capture", "server", check=False)
    assert bad.returncode == 1 and "capture is unavailable on this dataplane: EAL runs without shared" in bad.stderr

    for _ in range(5):
        for client in ("client", "client1"):
            lab.hosts[client].curl(f"http://{VIP}/")
    time.sleep(0.5)  # traffic stopped: the last FINs are through

    # DPDK's own commands answer beside dplb's.
    commands, ethdevs = telemetry(lab, "/", "/ethdev/list")
    assert {"/dplb/services", "/dplb/workers", "/dplb/drops", "/ethdev/stats"} <= set(commands), commands
    assert ethdevs == [0, 1]

    svc_list, svc, w_all, w0, drops_before = telemetry(lab, "/dplb/services", f"/dplb/services,TCP {VIP}:80",
                                                      "/dplb/workers", "/dplb/workers,0", "/dplb/drops")
    listing = lab.listing()["services"][0]
    status = lab.dataplane_status()
    (w0_after, drops_after) = telemetry(lab, "/dplb/workers,0", "/dplb/drops")

    assert svc_list == {"count": 1, "listed": 1, "services": [f"TCP {VIP}:80"]}
    # Service and real-server counters move only with traffic: equal to dplbadm --stats.
    assert svc["conns"] == 10
    for k in ("conns", "inpkts", "outpkts", "inbytes", "outbytes"):
        assert svc[k] == listing["stats"][k], (k, svc, listing)
    assert svc["real_servers"] == svc["listed"] == 2
    for i, real in enumerate(listing["real_servers"]):
        t = svc[f"real{i}"]
        assert (t["address"], t["port"]) == (real["address"], real["port"])
        for k in ("conns", "inpkts", "outpkts", "inbytes", "outbytes"):
            assert t[k] == real["stats"][k], (k, t, real)
        assert t["active_conns"] == real["active_conns"] and t["inactive_conns"] == real["inactive_conns"]
        assert t["conns"] == 5

    # Worker counters may still move between the queries (idle sleeps, ARP): status, asked
    # between two telemetry queries, lies between them, and equals them where they agree.
    ws = status["workers"][0]
    assert set(w0) == set(ws)
    def between(k, before, v, after):
        assert before <= v <= after, (k, before, v, after)
        if before == after:
            assert v == before, k

    for k, v in ws.items():
        if isinstance(v, dict):  # the worker's drops by reason (one level of nesting)
            assert set(w0[k]) == set(v)
            for r, n in v.items():
                between(f"{k}.{r}", w0[k][r], n, w0_after[k][r])
        else:
            between(k, w0[k], v, w0_after[k])
    assert w0["rx_packets"] > 0 and w_all["0"]["rx_packets"] <= w0_after["rx_packets"]
    assert set(w_all) == {"0"} and w_all["0"]["lcore"] == ws["lcore"]
    for reason, n in drops_before.items():
        assert n <= status["drops"].get(reason, 0) <= drops_after[reason], reason
    assert set(status["drops"]) <= set(drops_before)

    # Bad parameters get an answer that says what is wrong.
    (err_svc, err_worker) = telemetry(lab, "/dplb/services,TCP 10.9.9.9:80", "/dplb/workers,7")
    assert "no service 'TCP 10.9.9.9:80'" in err_svc["error"]
    assert err_worker == {"error": "no worker '7' (workers are 0 to 0)"}
