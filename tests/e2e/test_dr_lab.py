"""The DR lab of ../shared/seeds/001_be4b2f796ff40615.txt section 8, with dplb as the director.

The director has one port, on the real servers' network. The real servers hold the VIP on lo
(/32, arp_ignore=1, arp_announce=2: lab.dr_real_server) and route replies to the router, so
the replies never pass the dataplane.
"""
from conftest import DATAPLANE_MAC, DR_CLIENT, DR_PAGE, DR_RS, DR_VIP, real_server_line
from lab import read_pcap

SERVICE = f"{DR_VIP}:80"
URL = f"http://{DR_VIP}/"


def seed_service(lab):
    # The seed's lines (ipvsadm's -a default forwarding is -g; the seed spells it out).
    lab.adm("-A", "-t", SERVICE, "-s", "rr")
    lab.adm("-a", "-t", SERVICE, "-r", DR_RS["webserver1"], "-g")
    lab.adm("-a", "-t", SERVICE, "-r", DR_RS["webserver2"], "-g")


def service_stats(lab):
    (svc,) = lab.listing()["services"]
    return svc["stats"]


def worker_rx(lab):
    return sum(w["rx_packets"] for w in lab.dataplane_status()["workers"])


def test_dr_lab_round_robin_and_listing(dr_lab):
    lab = dr_lab
    seed_service(lab)
    assert lab.adm("-L", "-n").stdout.splitlines()[1:] == [
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
        f"TCP  {SERVICE} rr",
        real_server_line(f"{DR_RS['webserver1']}:80", "Route"),
        real_server_line(f"{DR_RS['webserver2']}:80", "Route"),
    ]
    client = lab.hosts["client"]
    assert [client.curl(URL).strip() for _ in range(4)] == [
        DR_PAGE["webserver1"], DR_PAGE["webserver2"], DR_PAGE["webserver1"], DR_PAGE["webserver2"]]
    # The IP header is untouched: the real server sees the client's own address.
    assert client.curl(f"{URL}client").strip() == DR_CLIENT


def test_dr_replies_bypass_the_dataplane(dr_lab):
    lab = dr_lab
    seed_service(lab)
    client = lab.hosts["client"]
    client.curl(URL)  # neighbours resolved (router -> VIP, dataplane -> real servers)
    rx0, stats0 = worker_rx(lab), service_stats(lab)
    tap = lab.taps["lan"][0]
    at_dataplane, dp_pcap = lab.capture(None, "dataplane.pcap", "tcp port 80", ifname=tap)
    at_rs1, rs1_pcap = lab.capture(lab.hosts["webserver1"], "rs1.pcap", "tcp port 80")
    n = 6
    bodies = [client.curl(URL).strip() for _ in range(n)]
    lab.terminate(at_dataplane)
    lab.terminate(at_rs1)
    assert sorted(set(bodies)) == sorted(DR_PAGE.values())
    stats, rx = service_stats(lab), worker_rx(lab)

    # Counters: the dataplane saw the client's packets of every connection (at least SYN,
    # ACK, request, FIN and the last ACK) and not one packet towards the client.
    inpkts = stats["inpkts"] - stats0["inpkts"]
    assert stats["conns"] - stats0["conns"] == n, stats
    assert inpkts >= 4 * n, (stats0, stats)
    assert stats["outpkts"] == 0 and stats["outbytes"] == 0, stats
    # What the workers received is those packets plus a little ARP and IPv6 chatter, far
    # less than the >= 3 reply packets per connection that would come back through NAT.
    assert rx - rx0 < inpkts + 3 * n, (rx0, rx, inpkts)

    # On the wire at the dataplane's port: the client's packets in, the same packets out to
    # the real servers' MACs, and nothing from the VIP.
    frames = read_pcap(dp_pcap)
    from_vip = [f for f in frames if f.get("src") == DR_VIP]
    assert from_vip == [], from_vip
    to_vip = [f for f in frames if f.get("dst") == DR_VIP]
    sent_by_dataplane = [f for f in to_vip if f["eth_src"] == DATAPLANE_MAC]
    assert len(sent_by_dataplane) >= 4 * n, len(sent_by_dataplane)
    rs_macs = {lab.hosts[name].mac() for name in DR_RS}
    assert {f["eth_dst"] for f in sent_by_dataplane} == rs_macs
    assert all(f["src"] == DR_CLIENT and f["dport"] == 80 for f in to_vip), to_vip

    # The seed's Wireshark step, at webserver1: requests arrive from the dataplane's MAC with
    # the client's IP header; replies leave from the VIP to the router's MAC.
    frames = read_pcap(rs1_pcap)
    router_mac = lab.hosts["router"].mac("eth1")
    requests = [f for f in frames if f.get("dst") == DR_VIP]
    replies = [f for f in frames if f.get("src") == DR_VIP]
    assert requests and replies
    assert all(f["eth_src"] == DATAPLANE_MAC and f["src"] == DR_CLIENT for f in requests), requests
    assert all(f["eth_dst"] == router_mac and f["dst"] == DR_CLIENT and f["sport"] == 80 for f in replies), replies


def test_dr_real_server_port_cannot_differ(dr_lab):
    """DR cannot change the port: ipvsadm refuses a real-server port other than the service's."""
    lab = dr_lab
    lab.adm("-A", "-t", SERVICE, "-s", "rr")
    r = lab.adm("-a", "-t", SERVICE, "-r", f"{DR_RS['webserver1']}:8080", "-g", check=False)
    assert r.returncode != 0 and r.stderr.strip(), r
    (svc,) = lab.listing()["services"]
    assert svc["real_servers"] == []
    # The same server with the service's port (or none) is fine: it was the port.
    lab.adm("-a", "-t", SERVICE, "-r", f"{DR_RS['webserver1']}:80", "-g")
    (svc,) = lab.listing()["services"]
    assert [(r["address"], r["port"], r["forward"]) for r in svc["real_servers"]] == [(DR_RS["webserver1"], 80, "dr")]
