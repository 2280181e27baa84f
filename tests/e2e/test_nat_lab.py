"""The NAT lab of ../shared/seeds/000_aa2028958ed25a82.txt, and the same with FULLNAT."""
import time

from conftest import LIP, REMOTE_CLIENT, RS, VIP


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
