"""The NAT lab of ../shared/seeds/000_aa2028958ed25a82.txt, and the same with FULLNAT."""
import json
import time
from pathlib import Path

from conftest import LIP, REMOTE_CLIENT, RS, VIP
from lab import SYSTEM_PYTHON, read_pcap


def curl_four(lab, client="client"):
    return [lab.hosts[client].curl(f"http://{VIP}/").strip() for _ in range(4)]


def test_nat_lab_round_robin(lab):
    lab.adm("-A", "-t", f"{VIP}:80", "-s", "rr")
    lab.adm("-a", "-t", f"{VIP}:80", "-r", f"{RS['RS1']}:80", "-m")
    lab.adm("-a", "-t", f"{VIP}:80", "-r", f"{RS['RS2']}:80", "-m")
    listing = lab.adm("-L", "-n").stdout.splitlines()
    assert listing[1:] == [
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
        f"TCP  {VIP}:80 rr",
        f"  -> {RS['RS1']}:80           Masq    1      0          0         ",
        f"  -> {RS['RS2']}:80           Masq    1      0          0         ",
    ]
    # The seed's client is on another network: the VIP is reached through a router, and the
    # replies leave by the dataplane's static route to 192.168.100.0/24.
    assert curl_four(lab, "remote") == ["RS1", "RS2", "RS1", "RS2"]
    # NAT keeps the client's address: the real server sees the client.
    assert lab.hosts["remote"].curl(f"http://{VIP}/client").strip() == REMOTE_CLIENT
    assert lab.hosts["client"].curl(f"http://{VIP}/client").strip() == lab.hosts["client"].address


def test_fullnat_lab_round_robin(lab):
    lab.adm("-A", "-t", f"{VIP}:80", "-s", "rr")
    lab.adm("--add-laddr", "-z", LIP, "-t", f"{VIP}:80")
    lab.adm("-a", "-t", f"{VIP}:80", "-r", f"{RS['RS1']}:80", "-b")
    lab.adm("-a", "-t", f"{VIP}:80", "-r", f"{RS['RS2']}:80", "-b")
    assert "FullNat" in lab.adm("-L", "-n").stdout
    assert curl_four(lab) == ["RS1", "RS2", "RS1", "RS2"]
    # FULLNAT replaces the client address with the local address.
    assert lab.hosts["client"].curl(f"http://{VIP}/client").strip() == LIP


def test_ping_vip_and_interface(lab):
    lab.adm("-A", "-t", f"{VIP}:80", "-s", "rr")
    client = lab.hosts["client"]
    for address in (VIP, "192.168.227.1"):
        r = client.ping(address, count=3)
        assert " 0% packet loss" in r.stdout, r.stdout


def test_stats_count_connections_and_packets(lab):
    lab.adm("-A", "-t", f"{VIP}:80", "-s", "rr")
    lab.adm("-a", "-t", f"{VIP}:80", "-r", f"{RS['RS1']}:80", "-m")
    lab.adm("-a", "-t", f"{VIP}:80", "-r", f"{RS['RS2']}:80", "-m")
    curl_four(lab)
    svc = lab.listing()["services"][0]
    assert svc["stats"]["conns"] == 4, svc
    # Each HTTP/1.0 exchange is at least SYN, ACK, request, FIN/ACK from the client and
    # SYN-ACK, response, FIN from the server.
    assert svc["stats"]["inpkts"] >= 4 * 4 and svc["stats"]["outpkts"] >= 4 * 3, svc
    # Every packet is at least an IPv4 + TCP header.
    assert svc["stats"]["inbytes"] >= 40 * svc["stats"]["inpkts"], svc
    assert svc["stats"]["outbytes"] >= 40 * svc["stats"]["outpkts"], svc
    for real in svc["real_servers"]:
        assert real["stats"]["conns"] == 2, svc
        assert real["active_conns"] + real["inactive_conns"] == 2, svc
    text = lab.adm("-L", "-n", "--stats").stdout
    assert f"TCP  {VIP}:80" in text and "Conns" in text


def test_gratuitous_arp_when_a_vip_is_added(lab):
    client = lab.hosts["client"]
    capture = client.spawn("tcpdump", "-l", "-n", "-i", "eth0", "-c", "1",
                           f"arp and arp[24:4] = 0x{''.join(f'{int(x):02x}' for x in VIP.split('.'))}",
                           log="garp.log")
    time.sleep(1)  # tcpdump attached
    lab.adm("-A", "-t", f"{VIP}:80", "-s", "rr")
    capture.wait(timeout=10)
    assert f"Request who-has {VIP} tell {VIP}" in lab.log("garp.log"), lab.log("garp.log")


def test_unresolvable_real_server_is_counted(lab):
    lab.adm("-A", "-t", f"{VIP}:80", "-s", "rr")
    lab.adm("-a", "-t", f"{VIP}:80", "-r", "192.168.253.150:80", "-m")  # nobody has this address
    r = lab.hosts["client"].run("curl", "-sS", "-m", "6", f"http://{VIP}/", check=False, timeout=15)
    assert r.returncode != 0
    # The main lcore asked three times, a second apart, then dropped what it held.
    drops = lab.drops()
    assert drops.get("neighbor_unresolved", 0) >= 1, drops


def test_port_translating_nat_and_fullnat(lab):
    """Real servers listening on another port than the VIP's: NAT VIP:443 -> RS:8443 and
    FULLNAT VIP:444 -> RS:9443. Every packet the client receives from the VIP carries the
    VIP's port (a reply leaving with the server's port would be reset by the client's kernel
    and curl would fail), and the servers see their own port."""
    for name in ("RS1", "RS2"):
        host = lab.hosts[name.lower()]
        lab.http_server(host, f"{name}-8443", port=8443)
        lab.http_server(host, f"{name}-9443", port=9443)
    lab.adm("-A", "-t", f"{VIP}:443", "-s", "rr")
    lab.adm("-A", "-t", f"{VIP}:444", "-s", "rr")
    lab.adm("--add-laddr", "-z", LIP, "-t", f"{VIP}:444")
    for name in ("RS1", "RS2"):
        lab.adm("-a", "-t", f"{VIP}:443", "-r", f"{RS[name]}:8443", "-m")
        lab.adm("-a", "-t", f"{VIP}:444", "-r", f"{RS[name]}:9443", "-b")
    client = lab.hosts["client"]
    at_client, client_pcap = lab.capture(client, "ports_client.pcap", "tcp and host " + VIP)
    at_rs1, rs1_pcap = lab.capture(lab.hosts["rs1"], "ports_rs1.pcap", "tcp port 8443 or tcp port 9443")
    try:
        bodies = {}
        for vport in (443, 444):
            # -w: the port of the socket curl connected, after the body.
            out = [client.run("curl", "-sS", "--fail", "-m", "5", "-w", " %{remote_port}",
                              f"http://{VIP}:{vport}/").stdout.split() for _ in range(2)]
            bodies[vport] = out
        time.sleep(0.5)  # the last packets reach tcpdump
    finally:
        for p in (at_client, at_rs1):
            p.terminate()
            p.wait(timeout=10)
    assert bodies[443] == [["RS1-8443", "443"], ["RS2-8443", "443"]], bodies
    assert bodies[444] == [["RS1-9443", "444"], ["RS2-9443", "444"]], bodies
    assert lab.hosts["client"].curl(f"http://{VIP}:443/client").strip() == client.address
    assert lab.hosts["client"].curl(f"http://{VIP}:444/client").strip() == LIP
    seen = read_pcap(client_pcap)
    from_vip = [p for p in seen if p.get("src") == VIP]
    assert len(from_vip) >= 4 * 3, seen  # SYN-ACK, response, FIN at least, per connection
    assert {p["sport"] for p in from_vip} == {443, 444}, from_vip
    to_vip = [p for p in seen if p.get("dst") == VIP]
    assert {p["dport"] for p in to_vip} == {443, 444}, to_vip
    # The server side of the translation: RS1 talks on its own ports only.
    rs1 = read_pcap(rs1_pcap)
    assert rs1 and {p["sport"] for p in rs1 if p.get("src") == RS["RS1"]} <= {8443, 9443}, rs1
    assert {p["dport"] for p in rs1 if p.get("dst") == RS["RS1"]} <= {8443, 9443}, rs1


def test_mh_lab_kernel_servers_and_removal(lab):
    """Traffic through an mh service (mh-port, 251 positions): for 24 client source ports,
    each connection lands on the server the kernel's ip_vs_mh picks (tests/unit/sched/
    mh_reference.py, an independent re-implementation), before and after a server leaves.
    The flows of the servers that stay stay with them, except the few the reference says
    Maglev moves."""
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit" / "sched"))
    import mh_reference

    lab.http_server(lab.hosts["rs1"], "RS1b", port=8081)
    servers = [(RS["RS1"], 80, 1, "RS1"), (RS["RS2"], 80, 1, "RS2"), (RS["RS1"], 8081, 2, "RS1b")]
    lab.adm("-A", "-t", f"{VIP}:80", "-s", "mh", "-b", "mh-port", "--mh-table-size", "251")
    for addr, port, weight, _ in servers:
        lab.adm("-a", "-t", f"{VIP}:80", "-r", f"{addr}:{port}", "-m", "-w", str(weight))
    client = lab.hosts["client"]
    ports = list(range(20000, 20024))
    # One GET per source port. The same ports are used again after the change, so each
    # connection ends with a reset (SO_LINGER 0): no TIME_WAIT keeps the port.
    getter = """
import json, socket, struct, sys
out = []
for port in json.loads(sys.argv[3]):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.settimeout(5)
    s.bind((sys.argv[1], port))
    s.connect((sys.argv[2], 80))
    s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    out.append(data.split(b"\\r\\n\\r\\n", 1)[1].decode().strip())
print(json.dumps(out))
"""

    def landed():
        r = client.run(SYSTEM_PYTHON, "-c", getter, client.address, VIP, json.dumps(ports), timeout=60)
        return json.loads(r.stdout)

    def expected(present):
        ref = mh_reference.Service([(a, p, w) for a, p, w, _ in present], 251)
        return [present[ref.lookup(client.address, p)][3] for p in ports]

    before = landed()
    assert before == expected(servers), before
    assert len(set(before)) == 3, before  # every server got some of the 24 flows
    lab.adm("-d", "-t", f"{VIP}:80", "-r", f"{RS['RS2']}:80")
    after = landed()
    stay = [s for s in servers if s[3] != "RS2"]
    assert after == expected(stay), after
    assert "RS2" not in after
    moved_survivors = sum(1 for b, a in zip(before, after) if b != "RS2" and b != a)
    # Maglev's promise, with the numbers of this case: a few survivor flows may move.
    assert moved_survivors <= len(ports) // 4, (before, after)
    print(f"mh lab: {sum(b == 'RS2' for b in before)} flows left with RS2, "
          f"{moved_survivors} of the others moved")
