#!/usr/bin/python3
"""Writes the golden pcaps the dataplane unit tests replay (golden_pcap_test.cpp).

Built with scapy, independently of the C++ packet builder and of the dataplane: every
checksum here is scapy's. Each file holds (input, expected output) pairs for one fresh
load balancer set up as tests/unit/dataplane/forwarder_fixture.hpp describes (its first
FULLNAT connection gets local port 1024). Forwarded outputs keep the input's Ethernet
header (MACs are the worker loop's job); answers (ARP, ICMP echo) carry the port's MAC.

Run from this directory with Debian's python3-scapy: /usr/bin/python3 make_golden.py
"""
from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, Raw, wrpcap

CLIENT, VIP, LIP = "198.51.100.7", "192.0.2.100", "10.0.0.200"
RS1, RS3, RS5, RS6 = "10.0.0.11", "10.0.0.21", "10.0.0.31", "10.0.0.41"
RS7, RS8 = "10.0.0.71", "10.0.0.81"  # NAT services that translate ports
PORT0_MAC, PORT1_MAC = "02:00:5e:00:53:10", "02:00:5e:00:53:11"
GW_MAC, SERVER_MAC = "02:00:5e:00:53:c1", "02:00:5e:00:53:5e"
TCP_OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (66051, 0)), ("NOP", None), ("WScale", 7)]
IP_OPTS = b"\x01\x01\x01\x01\x01\x01\x01\x00"  # NOPs and EOL: IHL 7


def payload(n, seed):
    return bytes((seed + i * 37) & 0xFF for i in range(n))


def from_client(l4, dst=VIP, ttl=60, options=b""):
    return Ether(src=GW_MAC, dst=PORT0_MAC) / IP(src=CLIENT, dst=dst, ttl=ttl, id=0x1C46, options=options) / l4


def from_server(l4, src, dst, ttl=64):
    return Ether(src=SERVER_MAC, dst=PORT1_MAC) / IP(src=src, dst=dst, ttl=ttl, id=0x2222) / l4


def moved(pkt, src, dst, sport, dport):
    """`pkt` after the load balancer: new tuple, TTL - 1, checksums recomputed by scapy."""
    out = pkt.copy()
    out[IP].src, out[IP].dst, out[IP].ttl = src, dst, pkt[IP].ttl - 1
    l4 = out[TCP] if TCP in out else out[UDP]
    l4.sport, l4.dport = sport, dport
    del out[IP].chksum
    if TCP in out or out[UDP].chksum != 0:
        del l4.chksum
    return Ether(bytes(out))


def pairs_fullnat_tcp():
    c = 40000
    syn = from_client(TCP(sport=c, dport=80, flags="S", seq=1000, options=TCP_OPTS), options=IP_OPTS)
    synack = from_server(TCP(sport=8080, dport=1024, flags="SA", seq=7000, ack=1001, options=TCP_OPTS), RS1, LIP)
    ack = from_client(TCP(sport=c, dport=80, flags="PA", seq=1001, ack=7001) / Raw(payload(333, 1)))
    data = from_server(TCP(sport=8080, dport=1024, flags="PA", seq=7001, ack=1334) / Raw(payload(1400, 9)), RS1, LIP)
    fin = from_server(TCP(sport=8080, dport=1024, flags="FA", seq=8401, ack=1334), RS1, LIP, ttl=2)
    return [
        (syn, moved(syn, LIP, RS1, 1024, 8080)),
        (synack, moved(synack, VIP, CLIENT, 80, c)),
        (ack, moved(ack, LIP, RS1, 1024, 8080)),
        (data, moved(data, VIP, CLIENT, 80, c)),
        (fin, moved(fin, VIP, CLIENT, 80, c)),
    ]


def pairs_nat_tcp():
    c = 40001
    syn = from_client(TCP(sport=c, dport=443, flags="S", seq=5, options=TCP_OPTS))
    synack = from_server(TCP(sport=443, dport=c, flags="SA", seq=9, ack=6), RS3, CLIENT)
    data = from_client(TCP(sport=c, dport=443, flags="PA", seq=6, ack=10) / Raw(payload(517, 3)), options=IP_OPTS)
    rst = from_server(TCP(sport=443, dport=c, flags="R", seq=10), RS3, CLIENT)
    return [
        (syn, moved(syn, CLIENT, RS3, c, 443)),
        (synack, moved(synack, VIP, CLIENT, 443, c)),
        (data, moved(data, CLIENT, RS3, c, 443)),
        (rst, moved(rst, VIP, CLIENT, 443, c)),
    ]


def pairs_fullnat_udp():
    c = 40002
    q = from_client(UDP(sport=c, dport=53) / Raw(payload(29, 5)))
    r = from_server(UDP(sport=5353, dport=1024) / Raw(payload(301, 6)), RS5, LIP)
    q2 = from_client(UDP(sport=c, dport=53, chksum=0) / Raw(payload(8, 7)))  # no checksum: stays 0
    return [
        (q, moved(q, LIP, RS5, 1024, 5353)),
        (r, moved(r, VIP, CLIENT, 53, c)),
        (q2, moved(q2, LIP, RS5, 1024, 5353)),
    ]


def pairs_nat_udp():
    c = 40003
    q = from_client(UDP(sport=c, dport=5353) / Raw(payload(1, 8)), options=IP_OPTS)
    r = from_server(UDP(sport=5353, dport=c) / Raw(payload(64, 4)), RS6, CLIENT)
    return [(q, moved(q, CLIENT, RS6, c, 5353)), (r, moved(r, VIP, CLIENT, 5353, c))]


def pairs_nat_tcp_ports():
    """NAT translating ports (VIP:4443 -> RS7:8443): the server's answers leave from 4443."""
    c = 40004
    syn = from_client(TCP(sport=c, dport=4443, flags="S", seq=77, options=TCP_OPTS), options=IP_OPTS)
    synack = from_server(TCP(sport=8443, dport=c, flags="SA", seq=500, ack=78, options=TCP_OPTS), RS7, CLIENT)
    data = from_client(TCP(sport=c, dport=4443, flags="PA", seq=78, ack=501) / Raw(payload(211, 12)))
    resp = from_server(TCP(sport=8443, dport=c, flags="PA", seq=501, ack=289) / Raw(payload(1400, 13)), RS7, CLIENT)
    fin = from_server(TCP(sport=8443, dport=c, flags="FA", seq=1901, ack=289), RS7, CLIENT, ttl=2)
    return [
        (syn, moved(syn, CLIENT, RS7, c, 8443)),
        (synack, moved(synack, VIP, CLIENT, 4443, c)),
        (data, moved(data, CLIENT, RS7, c, 8443)),
        (resp, moved(resp, VIP, CLIENT, 4443, c)),
        (fin, moved(fin, VIP, CLIENT, 4443, c)),
    ]


def pairs_nat_udp_ports():
    """NAT translating ports (UDP VIP:5300 -> RS8:53), with and without a checksum."""
    c = 40005
    q = from_client(UDP(sport=c, dport=5300) / Raw(payload(40, 14)))
    r = from_server(UDP(sport=53, dport=c) / Raw(payload(333, 15)), RS8, CLIENT)
    r2 = from_server(UDP(sport=53, dport=c, chksum=0) / Raw(payload(9, 16)), RS8, CLIENT)
    return [(q, moved(q, CLIENT, RS8, c, 53)), (r, moved(r, VIP, CLIENT, 5300, c)),
            (r2, moved(r2, VIP, CLIENT, 5300, c))]


def pairs_local():
    echo = from_client(ICMP(type=8, id=0x1F2E, seq=3) / Raw(payload(56, 2)))
    reply = Ether(src=PORT0_MAC, dst=GW_MAC) / IP(src=VIP, dst=CLIENT, ttl=64, id=0x1C46) / \
        ICMP(type=0, id=0x1F2E, seq=3) / Raw(payload(56, 2))
    who_has = Ether(src=GW_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=GW_MAC, psrc="192.0.2.254", pdst=VIP)
    is_at = Ether(src=PORT0_MAC, dst=GW_MAC) / ARP(op=2, hwsrc=PORT0_MAC, psrc=VIP, hwdst=GW_MAC, pdst="192.0.2.254")
    return [(echo, reply), (who_has, is_at)]


for name, pairs in [("fullnat_tcp", pairs_fullnat_tcp()), ("nat_tcp", pairs_nat_tcp()),
                    ("fullnat_udp", pairs_fullnat_udp()), ("nat_udp", pairs_nat_udp()), ("local", pairs_local()),
                    ("nat_tcp_ports", pairs_nat_tcp_ports()), ("nat_udp_ports", pairs_nat_udp_ports())]:
    frames = []
    for i, o in pairs:
        frames += [Ether(bytes(i)), o]
    for k, f in enumerate(frames):
        f.time = 1700000000 + k  # fixed timestamps: the files are reproducible
    wrpcap(name + ".pcap", frames)
