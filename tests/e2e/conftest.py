"""Fixtures for the dataplane labs. Tests that need root and network namespaces."""
import os

import pytest

from lab import DRIVER_CPU, Lab

# The test driver and everything it starts stay on CPU 0; the dataplane owns CPU 1.
os.sched_setaffinity(0, {DRIVER_CPU})

# The seed NAT lab's addresses (../shared/seeds/000_aa2028958ed25a82.txt): the director is
# 192.168.253.142 on the real servers' network and holds the VIP 192.168.227.128.
VIP = "192.168.227.128"
CLIENT_NET_DP = "192.168.227.1/24"
SERVER_NET_DP = "192.168.253.142/24"
RS = {"RS1": "192.168.253.143", "RS2": "192.168.253.144"}
LIP = "192.168.253.200"


ROUTER = "192.168.227.254"
REMOTE_CLIENT = "192.168.100.200"  # the seed lab's client, one router away


def two_arm_lab(workers=1, idle="auto", clients=1, in_memory=True):
    """Client segment (VIP side) and server segment (RS1, RS2 with the director as gateway),
    dataplane on both, dplb-control started. As in the seed lab, a second client
    (`remote`, 192.168.100.200) sits behind a router the dataplane reaches by a static route.
    in_memory: see Lab.start_dataplane."""
    lab = Lab()
    try:
        lab.__enter__()  # inside: a failure after it made the switch namespace still closes the lab
        lab.segment("c")
        lab.segment("s")
        lab.segment("r")
        for i in range(clients):
            lab.host(f"client{i}" if i else "client", "c", f"192.168.227.{200 + i}/24")
        lab.router("router", ("c", f"{ROUTER}/24"), ("r", "192.168.100.1/24"))
        lab.host("remote", "r", f"{REMOTE_CLIENT}/24", gateway="192.168.100.1")
        for name, addr in RS.items():
            h = lab.host(name.lower(), "s", f"{addr}/24", gateway=SERVER_NET_DP.split("/")[0])
            lab.http_server(h, name)
        lab.start_dataplane([("client", "c", CLIENT_NET_DP), ("server", "s", SERVER_NET_DP)],
                            workers=workers, idle=idle, in_memory=in_memory,
                            extra={"routes": [{"prefix": "192.168.100.0/24", "via": ROUTER}]})
        lab.start_control()
        return lab
    except BaseException:
        lab.close()
        raise


@pytest.fixture
def lab():
    lab = two_arm_lab()
    try:
        yield lab
    finally:
        lab.close()


# ----- issue 3's labs ------------------------------------------------------------------------
# The DR lab of ../shared/seeds/001_be4b2f796ff40615.txt section 8 (and section 9, the
# firewall-mark lab, "in the previous lab's environment"): a one-armed director 192.168.0.50
# on the internal network 192.168.0.0/24, a router 172.25.254.100 / 192.168.0.100, the client
# 172.25.254.200 behind it, the web servers 192.168.0.10 / .20 holding the VIP 192.168.0.200
# on lo, their default gateway the router: replies go RS -> router -> client.
DR_VIP = "192.168.0.200"
DR_DIP = "192.168.0.50"
DR_ROUTER_LAN, DR_ROUTER_OUT = "192.168.0.100", "172.25.254.100"
DR_CLIENT = "172.25.254.200"
DR_RS = {"webserver1": "192.168.0.10", "webserver2": "192.168.0.20"}
# What `curl VIP` prints in the seed (echo webserver1 192.168.0.10 > index.html).
DR_PAGE = {name: f"{name} {addr}" for name, addr in DR_RS.items()}
DATAPLANE_MAC = "02:dd:00:00:00:01"  # the first dataplane port's MAC (lab.start_dataplane)


def one_arm_dr_lab(http_ports=(80,), clients=1, workers=1):
    """Seed 001's DR topology with dplb as the director. Each web server serves its page on
    every port of `http_ports`; `clients` hosts on the client network (172.25.254.200 + i)."""
    lab = Lab()
    try:
        lab.__enter__()  # inside: a failure after it made the switch namespace still closes the lab
        lab.segment("c")
        lab.segment("l")
        lab.router("router", ("c", f"{DR_ROUTER_OUT}/24"), ("l", f"{DR_ROUTER_LAN}/24"))
        for i in range(clients):
            lab.host(f"client{i}" if i else "client", "c", f"172.25.254.{200 + i}/24", gateway=DR_ROUTER_OUT)
        for name, addr in DR_RS.items():
            h = lab.host(name, "l", f"{addr}/24", gateway=DR_ROUTER_LAN)
            lab.dr_real_server(h, DR_VIP)
            for port in http_ports:
                lab.http_server(h, DR_PAGE[name], port=port, bind="0.0.0.0")
        # One-armed: one port on the internal network; the client network is reached through
        # the router (the dataplane needs it only for what it sends itself, e.g. ICMP).
        lab.start_dataplane([("lan", "l", f"{DR_DIP}/24")], workers=workers,
                            extra={"routes": [{"prefix": "172.25.254.0/24", "via": DR_ROUTER_LAN}]})
        lab.start_control()
        return lab
    except BaseException:
        lab.close()
        raise


@pytest.fixture
def dr_lab():
    lab = one_arm_dr_lab()
    try:
        yield lab
    finally:
        lab.close()


@pytest.fixture
def port_group_lab():
    # Seed 001 section 9 serves https on 443 (mod_ssl); here both ports serve plain HTTP:
    # what is tested is which real server the dataplane picks, not TLS.
    lab = one_arm_dr_lab(http_ports=(80, 443), clients=2)
    try:
        yield lab
    finally:
        lab.close()


# The TUN lab of ../shared/seeds/002_ce97be72d0d697b5.txt: director 192.168.0.253 holding the
# VIP 192.168.0.254, real server 192.168.0.1 on its network and 192.168.1.201 on another one.
# The seed leaves the rest open; here one router joins the director's network (192.168.0.100),
# the second real server's (192.168.1.100) and the client's (172.25.254.100), and is every
# host's default gateway: requests go client -> router -> director -(IPIP)-> real server,
# replies real server -> router -> client.
TUN_VIP = "192.168.0.254"
TUN_DIP = "192.168.0.253"
TUN_RS = {"RS1": "192.168.0.1", "RS2": "192.168.1.201"}
TUN_ROUTER = {"l": "192.168.0.100", "r": "192.168.1.100", "c": "172.25.254.100"}
TUN_CLIENT = "172.25.254.200"


def tun_lab_topology(workers=1):
    lab = Lab()
    try:
        lab.__enter__()  # inside: a failure after it made the switch namespace still closes the lab
        for seg in ("l", "r", "c"):
            lab.segment(seg)
        router = lab.router("router", ("l", f"{TUN_ROUTER['l']}/24"), ("r", f"{TUN_ROUTER['r']}/24"))
        lab.attach(router, "c", f"{TUN_ROUTER['c']}/24", ifname="eth2")
        # Replies from the VIP reach the router from RS2's network although the VIP is on the
        # director's: TUN routes asymmetrically, so no reverse-path filter on the router.
        router.sysctl({"net.ipv4.conf.all.rp_filter": 0, "net.ipv4.conf.default.rp_filter": 0})
        for ifname in ("eth0", "eth1", "eth2"):
            router.sysctl({f"net.ipv4.conf.{ifname}.rp_filter": 0})
        lab.host("client", "c", f"{TUN_CLIENT}/24", gateway=TUN_ROUTER["c"])
        for name, seg in (("RS1", "l"), ("RS2", "r")):
            h = lab.host(name.lower(), seg, f"{TUN_RS[name]}/24", gateway=TUN_ROUTER[seg])
            lab.tun_real_server(h, TUN_VIP)
            lab.http_server(h, name, bind="0.0.0.0")
        lab.start_dataplane([("lan", "l", f"{TUN_DIP}/24")], workers=workers,
                            extra={"routes": [{"prefix": "192.168.1.0/24", "via": TUN_ROUTER["l"]},
                                              {"prefix": "172.25.254.0/24", "via": TUN_ROUTER["l"]}]})
        lab.start_control()
        return lab
    except BaseException:
        lab.close()
        raise


@pytest.fixture
def tun_lab():
    lab = tun_lab_topology()
    try:
        yield lab
    finally:
        lab.close()


def real_server_line(address_port, forward, weight=1, active=0, inactive=0):
    """A real-server line of `ipvsadm -L -n` (its format: "  -> %-28s %-7s %-6d %-10u %-10u")."""
    return f"  -> {address_port:<28} {forward:<7} {weight:<6} {active:<10} {inactive:<10}"
