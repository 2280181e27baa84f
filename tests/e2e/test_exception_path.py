"""Issue 12, the exception path: a kernel twin per port (docs/architecture.md, "Exception path").

One segment: a peer host 192.168.227.200 and the dataplane's port `lan` (192.168.227.1/24)
with a kernel twin, moved into its own namespace and given the port's address. The kernel
answers ping, ARP and TCP for that address through the dataplane; VRRP crosses both ways
unchanged; a UDP flood to the twin beyond the exception budget is rate-limited while VRRP
sent during the flood all arrives (it is in the control class, limited separately). A
gratuitous ARP from the kernel side leaves unchanged. Run with one worker and with two (the
exception frames then come up from both workers' rings)."""
import re
import time

import pytest

from lab import HERE, SYSTEM_PYTHON, Lab, read_pcap, wait_until

PORT_ADDR = "192.168.227.1"
PEER = "192.168.227.200"
PORT_MAC = "02:dd:00:00:00:01"
EXCEPTION_PPS = 200  # per worker: low, so that a flood from one python loop exceeds it
FLOOD_PPS = 5000

VRRP_SEND = """
import sys, time
from scapy.all import Ether, IP, Raw, conf, get_if_hwaddr, sendp
conf.verb = 0
iface, src, count, gap = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
# VRRPv2 advertisement: version 2 type 1, VRID 51, priority 100, 1 address, 1 s, the VIP.
vrrp = bytes([0x21, 51, 100, 1, 0, 1, 0, 0]) + bytes([192, 168, 227, 128])
# The source MAC explicitly: scapy finds no route to 224.0.0.18 and would send from
# 00:00:00:00:00:00, which a Linux bridge drops.
f = Ether(src=get_if_hwaddr(iface), dst="01:00:5e:00:00:12") / IP(src=src, dst="224.0.0.18", proto=112, ttl=255) / Raw(vrrp)
for i in range(count):
    sendp(f, iface=iface)
    time.sleep(gap)
"""

GARP_SEND = """
import sys
from scapy.all import ARP, Ether, conf, get_if_hwaddr, sendp
conf.verb = 0
iface, addr = sys.argv[1], sys.argv[2]
mac = get_if_hwaddr(iface)
sendp(Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=2, hwsrc=mac, psrc=addr, hwdst="ff:ff:ff:ff:ff:ff", pdst=addr),
      iface=iface, count=3)
"""

UDP_FLOOD = """
import socket, sys, time
# Paced: 25 times the exception budget, but slow enough that the lab's own kernel path (veth,
# bridge, the port's tap) loses nothing, so what is dropped is the dataplane's decision.
dst, seconds, pps = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
n, start = 0, time.monotonic()
while time.monotonic() - start < seconds:
    due = int((time.monotonic() - start) * pps)
    while n < due:
        s.sendto(b"x" * 32, (dst, 9))
        n += 1
    time.sleep(0.002)
print(n)
"""


@pytest.fixture(params=[1, 2], ids=["1-worker", "2-workers"])
def twin_lab(request):
    lab = Lab()
    try:
        lab.__enter__()  # inside: a failure after it made the switch namespace still closes the lab
        lab.segment("c")
        lab.host("peer", "c", f"{PEER}/24")
        twin_if = f"k{lab.short}0"
        lab.start_dataplane([("lan", "c", f"{PORT_ADDR}/24")], twins={"lan": twin_if},
                            workers=request.param, extra={"exception_pps": EXCEPTION_PPS})
        lab.workers = request.param
        lab.twin_if = twin_if
        lab.kernel = lab.move_twin(twin_if, "kern", f"{PORT_ADDR}/24")
        lab.start_control()
        yield lab
    finally:
        lab.close()


def workers_sum(lab, name):
    return sum(w.get(name, 0) for w in lab.dataplane_status().get("workers", []))


def vrrp_frames(path):
    return [p for p in read_pcap(path) if p.get("proto") == 112]


def test_kernel_twin_ping_tcp_vrrp_and_flood(twin_lab):
    lab = twin_lab
    peer, kernel = lab.hosts["peer"], lab.kernel
    st = lab.dataplane_status()
    assert st["ports"][0]["kernel_twin"]["name"] == lab.twin_if, st["ports"][0]
    # The twin carries the port's MAC, so what the kernel sends leaves the port unchanged.
    assert kernel.mac(lab.twin_if) == PORT_MAC

    # Ping: ARP and ICMP go up to the kernel, its answers come down through the port.
    r = peer.ping(PORT_ADDR, count=10)
    assert r.returncode == 0, r.stdout + r.stderr
    rtt = re.search(r"= ([\d.]+)/([\d.]+)/([\d.]+)", r.stdout)
    print(f"ping through the twin: min/avg/max {rtt.group(1)}/{rtt.group(2)}/{rtt.group(3)} ms")
    assert workers_sum(lab, "icmp_echo_replies") == 0  # the kernel answered, not the dataplane
    assert workers_sum(lab, "exception_up_other") >= 10
    assert workers_sum(lab, "exception_up_control") >= 1  # the peer's ARP request
    assert lab.dataplane_status()["main"]["exception_down"] >= 11
    neigh = peer.run("ip", "neigh", "show", PORT_ADDR).stdout
    assert PORT_MAC in neigh, neigh

    # TCP both ways: a server in the twin's namespace, and the kernel as a client.
    lab.http_server(kernel, "KERNEL", port=8080)
    assert peer.curl(f"http://{PORT_ADDR}:8080/") == "KERNEL\n"
    lab.http_server(peer, "PEER", port=80)
    assert kernel.curl(f"http://{PEER}/") == "PEER\n"

    # VRRP from the segment arrives on the twin unchanged (TTL 255).
    cap, path = lab.capture(kernel, "vrrp_up.pcap", "ip proto 112", ifname=lab.twin_if)
    peer.run(SYSTEM_PYTHON, "-c", VRRP_SEND, "eth0", PEER, "5", "0.02")
    wait_until(lambda: len(vrrp_frames(path)) >= 5, 10, "5 VRRP adverts on the twin")
    lab.terminate(cap)
    got = vrrp_frames(path)
    assert len(got) == 5
    assert all(bytes.fromhex(p["hex"])[22] == 255 for p in got)

    # VRRP sent by the kernel side leaves on the segment unchanged: TTL 255, the port's MAC.
    cap, path = lab.capture(peer, "vrrp_down.pcap", "ip proto 112")
    kernel.run(SYSTEM_PYTHON, "-c", VRRP_SEND, lab.twin_if, PORT_ADDR, "5", "0.02")
    wait_until(lambda: len(vrrp_frames(path)) >= 5, 10, "5 VRRP adverts on the segment")
    lab.terminate(cap)
    got = vrrp_frames(path)
    assert len(got) == 5
    for p in got:
        frame = bytes.fromhex(p["hex"])
        assert frame[22] == 255 and p["src"] == PORT_ADDR and p["eth_src"] == PORT_MAC, p

    # A gratuitous ARP from the kernel side (keepalived's, on a takeover) leaves unchanged.
    cap, path = lab.capture(peer, "garp.pcap", "arp")
    kernel.run(SYSTEM_PYTHON, "-c", GARP_SEND, lab.twin_if, PORT_ADDR)

    def garps():
        ip = bytes(int(x) for x in PORT_ADDR.split("."))
        return [f for f in (bytes.fromhex(p["hex"]) for p in read_pcap(path))
                if f[20:22] == b"\x00\x02" and f[28:32] == ip and f[38:42] == ip]
    wait_until(lambda: len(garps()) >= 3, 10, "3 gratuitous ARPs on the segment")
    lab.terminate(cap)
    assert all(f[6:12] == bytes.fromhex(PORT_MAC.replace(":", "")) for f in garps())

    # A UDP flood to the twin's address beyond its budget is rate-limited and counted, while
    # every VRRP advert sent during the flood arrives.
    limited_before = lab.drops().get("exception_rate_limited", 0)
    up_before = workers_sum(lab, "exception_up_other")
    started = time.monotonic()
    cap, path = lab.capture(kernel, "vrrp_flood.pcap", "ip proto 112", ifname=lab.twin_if)
    rx_before = workers_sum(lab, "rx_packets")
    flood = peer.spawn(SYSTEM_PYTHON, "-c", UDP_FLOOD, PORT_ADDR, "3", str(FLOOD_PPS), log="flood.log")
    time.sleep(0.3)
    peer.run(SYSTEM_PYTHON, "-c", VRRP_SEND, "eth0", PEER, "20", "0.1", timeout=30)
    flood.wait(timeout=20)
    sent = int(lab.log("flood.log").split()[-1])
    ctl_before = workers_sum(lab, "exception_up_control")
    try:
        wait_until(lambda: len(vrrp_frames(path)) >= 20, 5, "20 VRRP adverts on the twin during the flood")
    finally:
        lab.terminate(cap)
        print(f"VRRP on the twin: {len(vrrp_frames(path))}/20; control frames up {ctl_before}; drops {lab.drops()}")
    limited = lab.drops().get("exception_rate_limited", 0) - limited_before
    up = workers_sum(lab, "exception_up_other") - up_before
    rx = workers_sum(lab, "rx_packets") - rx_before
    elapsed = time.monotonic() - started
    print(f"flood: {sent} UDP datagrams sent, {rx} frames received by the dataplane, {limited} rate-limited, "
          f"{up} other exception frames up in "
          f"{elapsed:.1f} s; VRRP during the flood: {len(vrrp_frames(path))}/20 arrived")
    assert len(vrrp_frames(path)) == 20
    # What reaches the dataplane beyond the budget is counted, and no more than the budget goes up.
    assert limited > sent // 2, (sent, rx, limited)
    assert up <= lab.workers * (EXCEPTION_PPS * (elapsed + 1) + 20), (up, elapsed)
    assert lab.drops().get("exception_control_rate_limited", 0) == 0
