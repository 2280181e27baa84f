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


def two_arm_lab(workers=1, idle="auto", clients=1):
    """Client segment (VIP side) and server segment (RS1, RS2 with the director as gateway),
    dataplane on both, dplb-control started. As in the seed lab, a second client
    (`remote`, 192.168.100.200) sits behind a router the dataplane reaches by a static route."""
    lab = Lab().__enter__()
    try:
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
                            workers=workers, idle=idle,
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
