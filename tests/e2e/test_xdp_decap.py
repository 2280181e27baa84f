"""The TUN real server's IPIP decapsulation (xdp/ipip_decap.c), without dplb.

The kernel here has no ipip module, so the TUN lab's real servers strip the outer header
with an XDP program (lab.tun_real_server). This test proves that side on its own: a
namespace playing the director sends crafted frames to a real server set up by
lab.tun_real_server, a capture on the real server shows what the stack received after the
program (generic XDP runs before packet taps), and the director side records what the real
server answered. Addresses are seed 002's: director 192.168.0.253, VIP 192.168.0.254, real
server 192.168.0.1; the client 172.25.254.200 is elsewhere (the real server's default route
goes back through the director namespace, where the replies are seen).
"""
import json
from pathlib import Path

import pytest

from lab import SYSTEM_PYTHON, Lab

DIP, VIP, RIP, CIP = "192.168.0.253", "192.168.0.254", "192.168.0.1", "172.25.254.200"

# name: (scapy expression of the frame after the Ethernet header, what the program must do)
#   "decap": the real server's stack sees the inner packet behind the same Ethernet header
#   "pass":  it sees the frame exactly as sent
#   "drop":  it sees neither
CASES = {
    "ipip_icmp_echo": ("IP(src=DIP, dst=RIP)/IP(src=CIP, dst=VIP)/ICMP(id=101)", "decap"),
    "ipip_tcp_syn": ("IP(src=DIP, dst=RIP)/IP(src=CIP, dst=VIP)/TCP(sport=40102, dport=80, flags='S', seq=1000)",
                     "decap"),
    # IHL 6: the inner header starts 24 bytes in.
    "ipip_outer_options": ("IP(src=DIP, dst=RIP, options=[IPOption_NOP()] * 4)/IP(src=CIP, dst=VIP)/ICMP(id=103)",
                           "decap"),
    # What a DR director sends: the client's packet as is.
    "no_outer_header": ("IP(src=CIP, dst=VIP)/ICMP(id=104)", "pass"),
    "not_ipip": ("IP(src=DIP, dst=RIP)/ICMP(id=105)", "pass"),
    "arp": ("ARP(op=1, psrc=DIP, pdst='192.168.0.77')", "pass"),
    "ipv6": ("IPv6(src='fe80::1', dst='fe80::2', nh=4)/IP(src=CIP, dst=VIP)/ICMP(id=110)", "pass"),
    "outer_truncated": ("IP(src=DIP, dst=RIP, proto=4)", "pass"),  # no byte after the outer header
    "outer_cut_short": ("Raw(bytes(IP(src=DIP, dst=RIP, proto=4))[:12])", "pass"),  # frame ends inside it
    "outer_ihl_4": ("IP(src=DIP, dst=RIP, ihl=4, proto=4)/IP(src=CIP, dst=VIP)/ICMP(id=107)", "pass"),
    "outer_total_length_short": ("IP(src=DIP, dst=RIP, len=30)/IP(src=CIP, dst=VIP)/ICMP(id=108)", "pass"),
    "outer_fragment": ("IP(src=DIP, dst=RIP, flags='MF')/IP(src=CIP, dst=VIP)/ICMP(id=109)", "pass"),
    "inner_truncated": ("IP(src=DIP, dst=RIP, proto=4)/Raw(bytes(IP(src=CIP, dst=VIP))[:10])", "pass"),
    "inner_not_ipv4": ("IP(src=DIP, dst=RIP, proto=4)/Raw(b'\\x60' + bytes(39))", "pass"),
    "bad_outer_checksum": ("IP(src=DIP, dst=RIP, chksum=0x1234)/IP(src=CIP, dst=VIP)/ICMP(id=106)", "drop"),
}

# Sends each case's frame to the real server's MAC and prints the frames sent and every IPv4
# packet the real server sent back.
SENDER = """
import json, sys, time
from scapy.all import *
conf.verb = 0
DIP, VIP, RIP, CIP, RMAC = sys.argv[1:6]
cases = json.loads(sys.argv[6])
smac = get_if_hwaddr("eth0")
sniffer = AsyncSniffer(iface="eth0", filter=f"ip and ether src {RMAC}", store=True)
sniffer.start()
time.sleep(1)
sent = {}
for name, expr in cases.items():
    frame = Ether(src=smac, dst=RMAC) / eval(expr)
    sent[name] = bytes(frame).hex()
    sendp(frame, iface="eth0")
    time.sleep(0.05)
time.sleep(1.5)
replies = []
for p in sniffer.stop():
    d = {"src": p[IP].src, "dst": p[IP].dst}
    if ICMP in p:
        d.update(icmp_type=p[ICMP].type, icmp_id=p[ICMP].id)
    if TCP in p:
        d.update(sport=p[TCP].sport, dport=p[TCP].dport, flags=str(p[TCP].flags), ack=p[TCP].ack)
    replies.append(d)
print(json.dumps({"sent": sent, "replies": replies}))
"""


def send_cases(director, rs_mac, cases):
    r = director.run(SYSTEM_PYTHON, "-c", SENDER, DIP, VIP, RIP, CIP, rs_mac,
                     json.dumps({name: expr for name, (expr, _) in cases.items()}), timeout=60)
    out = json.loads(r.stdout)
    return {k: bytes.fromhex(v) for k, v in out["sent"].items()}, out["replies"]


def decapsulated(frame):
    """The frame with its outer IPv4 header removed (Ethernet header unchanged)."""
    ihl = (frame[14] & 0x0F) * 4
    return frame[:14] + frame[14 + ihl:]


def read_frames(path):
    from lab import read_pcap
    return [bytes.fromhex(p["hex"]) for p in read_pcap(path)]


@pytest.fixture
def xdp_lab():
    with Lab() as lab:
        lab.segment("n")
        director = lab.host("director", "n", f"{DIP}/24")
        rs = lab.host("rs1", "n", f"{RIP}/24", gateway=DIP)
        director.sysctl({"net.ipv4.ip_forward": 0})
        yield lab, director, rs


def test_kernel_alone_does_not_decapsulate(xdp_lab):
    """The baseline that makes the program necessary: without it, an encapsulated ping to the
    VIP gets no answer (no ipip module)."""
    lab, director, rs = xdp_lab
    modules = Path("/proc/modules")
    if modules.exists() and any(line.split()[0] == "ipip" for line in modules.read_text().splitlines()):
        pytest.skip("this kernel has the ipip module loaded")
    lab.dr_real_server(rs, VIP)  # the VIP on lo, but no decapsulation
    _, replies = send_cases(director, rs.mac(), {"ipip_icmp_echo": CASES["ipip_icmp_echo"]})
    assert [r for r in replies if r.get("icmp_type") == 0 and r.get("icmp_id") == 101] == [], replies


def test_decapsulation_verdicts_and_replies(xdp_lab):
    lab, director, rs = xdp_lab
    lab.tun_real_server(rs, VIP)
    assert "xdpgeneric" in rs.run("ip", "link", "show", "eth0").stdout
    lab.http_server(rs, "RS1", bind="0.0.0.0")  # a listener on VIP:80 for the SYN
    capture, pcap = lab.capture(rs, "rs.pcap", f"ether src {director.mac()}")
    sent, replies = send_cases(director, rs.mac(), CASES)
    lab.terminate(capture)
    received = read_frames(pcap)

    for name, (_, verdict) in CASES.items():
        frame = sent[name]
        if verdict == "decap":
            assert decapsulated(frame) in received, f"{name}: the inner packet did not reach the stack"
            assert frame not in received, f"{name}: the outer header was not removed"
        elif verdict == "pass":
            assert frame in received, f"{name}: not passed unchanged"
        else:
            assert frame not in received and decapsulated(frame) not in received, f"{name}: not dropped"

    # The real server answered the inner packets from the VIP to the client, directly.
    def icmp_reply(src, dst, ident):
        return any(r.get("icmp_type") == 0 and r.get("icmp_id") == ident and r["src"] == src and r["dst"] == dst
                   for r in replies)
    assert icmp_reply(VIP, CIP, 101), replies
    assert icmp_reply(VIP, CIP, 103), replies   # outer header with options
    assert icmp_reply(VIP, CIP, 104), replies   # no outer header: answered as DR would be
    assert icmp_reply(RIP, DIP, 105), replies   # ordinary traffic to the real server
    assert not any(r.get("icmp_id") == 106 and r.get("icmp_type") == 0 for r in replies), replies
    # The SYN reached the listener intact (checksums and all): SYN-ACK from VIP:80 (again
    # after a second, as nobody completes the handshake).
    syn_acks = [r for r in replies if r.get("flags") == "SA"]
    assert syn_acks, replies
    assert all(r == {"src": VIP, "dst": CIP, "sport": 80, "dport": 40102, "flags": "SA", "ack": 1001}
               for r in syn_acks), replies
