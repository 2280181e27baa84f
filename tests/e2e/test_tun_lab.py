"""The TUN lab of ../shared/seeds/002_ce97be72d0d697b5.txt, with dplb as the director.

The seed's script, line for line (its interface setup is what the dataplane does itself):
    ipvsadm -C
    ipvsadm -A -t 192.168.0.254:80 -s wlc
    ipvsadm -a -t 192.168.0.254:80 -r 192.168.0.1 -i -w 3
    ipvsadm -a -t 192.168.0.254:80 -r 192.168.1.201 -i -w 1
The second real server is on another network, behind a router. The real servers decapsulate
with tests/e2e/xdp/ipip_decap.c (no ipip module here; lab.tun_real_server) and answer the
client directly.
"""
import time

from conftest import DATAPLANE_MAC, TUN_CLIENT, TUN_DIP, TUN_ROUTER, TUN_RS, TUN_VIP, real_server_line
from lab import read_pcap

SERVICE = f"{TUN_VIP}:80"
URL = f"http://{TUN_VIP}/"


def seed_script(lab):
    lab.adm("-C")
    lab.adm("-A", "-t", SERVICE, "-s", "wlc")
    lab.adm("-a", "-t", SERVICE, "-r", TUN_RS["RS1"], "-i", "-w", "3")
    lab.adm("-a", "-t", SERVICE, "-r", TUN_RS["RS2"], "-i", "-w", "1")


def ip_packet(frame):
    """The IPv4 packet of an Ethernet frame, without Ethernet padding."""
    total = int.from_bytes(frame[16:18], "big")
    return frame[14:14 + total]


def test_tun_lab_listing_and_both_real_servers_answer(tun_lab):
    lab = tun_lab
    seed_script(lab)
    lines = lab.adm("-L", "-n").stdout.splitlines()[1:]
    assert lines[:3] == [
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
        f"TCP  {SERVICE} wlc",
    ]
    assert sorted(lines[3:]) == sorted([real_server_line(f"{TUN_RS['RS1']}:80", "Tunnel", 3),
                                        real_server_line(f"{TUN_RS['RS2']}:80", "Tunnel", 1)])
    client = lab.hosts["client"]
    bodies = [client.curl(URL).strip() for _ in range(4)]
    # wlc with weights 3:1 on idle servers: RS1 takes the first three, RS2 the fourth.
    assert sorted(bodies) == ["RS1", "RS1", "RS1", "RS2"], bodies
    # The inner packet is the client's: the real server sees the client's address.
    assert client.curl(f"{URL}client").strip() == TUN_CLIENT


def test_tun_encapsulation_on_the_wire_and_replies_bypass(tun_lab):
    lab = tun_lab
    seed_script(lab)
    client = lab.hosts["client"]
    client.curl(URL)  # neighbours resolved
    tap = lab.taps["lan"][0]
    capture, pcap = lab.capture(None, "dataplane.pcap", "ip", ifname=tap)
    n = 8
    bodies = [client.curl(URL).strip() for _ in range(n)]
    lab.terminate(capture)
    assert set(bodies) == {"RS1", "RS2"}, bodies
    (svc,) = lab.listing()["services"]
    assert svc["stats"]["outpkts"] == 0, svc["stats"]  # nothing came back through the dataplane

    frames = [dict(f, raw=bytes.fromhex(f["hex"])) for f in read_pcap(pcap)]
    assert [f for f in frames if f.get("src") == TUN_VIP] == []  # replies bypass the dataplane
    plain = [f for f in frames if f.get("dst") == TUN_VIP and f.get("proto") == 6]
    plain_in = {ip_packet(f["raw"]) for f in plain}
    # Only the connections opened while tcpdump listened: the warm-up connection's last
    # segment can wait in the tap's queue while tcpdump starts and leave tunnelled without
    # its plain copy in the capture.
    captured_ports = {f["sport"] for f in plain if "S" in f["flags"]}
    tunnelled = [f for f in frames if f.get("proto") == 4 and f.get("sport") in captured_ports]  # inner TCP's
    assert len(tunnelled) >= 4 * n, len(tunnelled)
    router_mac = lab.hosts["router"].mac("eth0")
    rs1_mac = lab.hosts["rs1"].mac()
    for f in tunnelled:
        # Outer header: from the dataplane's egress port address to the real server, which
        # for RS2 is routed through the router; RS1 is on the segment.
        assert f["eth_src"] == DATAPLANE_MAC and f["src"] == TUN_DIP, f
        assert f["dst"] in TUN_RS.values(), f
        assert f["eth_dst"] == (rs1_mac if f["dst"] == TUN_RS["RS1"] else router_mac), f
        # Inner packet: the client's packet as the dataplane received it, byte for byte.
        raw = f["raw"]
        inner = ip_packet(raw[(raw[14] & 0x0F) * 4:])
        assert f["inner_src"] == TUN_CLIENT and f["inner_dst"] == TUN_VIP, f
        assert inner in plain_in, f
    assert {f["dst"] for f in tunnelled} == set(TUN_RS.values())


def test_tun_wlc_split_follows_the_weights(tun_lab):
    """200 sequential connections, bounded to 100 s. Each is over (the client's FIN seen)
    before the next starts, so both servers hold only inactive connections, which stay
    counted for the FIN timeout (2 minutes, longer than the loop). wlc picks the server with
    the least inactive/weight, so it keeps RS1's count at three times RS2's: 150:50, exactly
    (either server order gives it; worked through in IPVS's wlc loop). The assertion allows
    +-10 (RS1 share 0.70..0.80) for a connection whose end reaches the scheduler after the
    next one is scheduled; schedulers that ignore the weights (rr, lc) give 100:100."""
    lab = tun_lab
    seed_script(lab)
    client = lab.hosts["client"]
    n, deadline = 200, time.monotonic() + 100
    bodies = []
    while len(bodies) < n and time.monotonic() < deadline:
        bodies.append(client.curl(URL).strip())
    assert len(bodies) == n, f"only {len(bodies)} requests in 100 s"
    rs1, rs2 = bodies.count("RS1"), bodies.count("RS2")
    assert rs1 + rs2 == n, bodies
    assert 140 <= rs1 <= 160, (rs1, rs2)
    # The dataplane's own counters agree with what the client saw.
    (svc,) = lab.listing()["services"]
    conns = {r["address"]: r["stats"]["conns"] for r in svc["real_servers"]}
    assert conns == {TUN_RS["RS1"]: rs1, TUN_RS["RS2"]: rs2}, conns
    inactive = {r["address"]: r["inactive_conns"] + r["active_conns"] for r in svc["real_servers"]}
    assert inactive == conns, svc["real_servers"]
