# TRex stateless profile: simple IMIX UDP to one dplb VIP from many flows.
#
# Three continuous streams of 64, 594 and 1518-byte frames (FCS included) in the
# packet ratio 7:4:1, each over the same clients * ports flows as
# udp_64b_many_flows.py (tuple generator on source address and port, IPv4
# checksum fixed, UDP checksum 0). The average frame is 361.8 bytes, so on 10GbE
# line rate is about 3.3 Mpps: this profile shows forwarding at realistic sizes,
# where the link rather than the per-packet cost is usually the limit.
#
# -m scales the three streams together and keeps the ratio:
#   start -f tools/trex/imix.py -p 0 -m 100% -d 30 -t --clients 20 --ports 50000
#   start -f tools/trex/imix.py -p 0 -m 2mpps -d 30

import ipaddress
import os
import sys

try:
    from trex.stl.api import *  # noqa: F401,F403
except ImportError:
    from trex_stl_lib.api import *  # noqa: F401,F403

# dplb_tunables.py sits next to the profiles; TRex loads a profile by path, not as a package.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dplb_tunables import flag, parse_tunables, stateless_parser  # noqa: E402,F401


def _int_list(text):
    if isinstance(text, (list, tuple)):
        return [int(v) for v in text]
    return [int(v) for v in str(text).replace(":", ",").split(",") if v.strip()]


def _tunables_parser():
    p = stateless_parser(__file__, "IMIX UDP to a dplb VIP from many client addresses and ports",
                         vport=53, client_base="100.64.0.0", clients=20)
    p.add_argument("--sizes", default="64,594,1518", help="frame sizes in bytes, FCS included")
    p.add_argument("--ratio", default="7,4,1", help="packets of each size per cycle")
    return p


class STLS1(object):
    def create_stream(self, a, size, pps, first, last):
        if not 64 <= size <= 9216:
            raise ValueError("frame sizes must be between 64 and 9216")
        base = Ether() / IP(src=str(first), dst=a.vip, flags="DF") / UDP(sport=a.sport_base, dport=a.vport, chksum=0)
        pad = max(0, size - 4 - len(base))
        vm = STLScVmRaw([
            STLVmTupleGen(name="flow", ip_min=str(first), ip_max=str(last),
                          port_min=a.sport_base, port_max=a.sport_base + a.ports - 1,
                          limit_flows=min(a.clients * a.ports, 0x7fffffff)),
            STLVmWrFlowVar(fv_name="flow.ip", pkt_offset="IP.src"),
            STLVmFixIpv4(offset="IP"),
            STLVmWrFlowVar(fv_name="flow.port", pkt_offset="UDP.sport"),
        ])
        return STLStream(name="imix_%dB" % size, packet=STLPktBuilder(pkt=base / ("x" * pad), vm=vm),
                         mode=STLTXCont(pps=pps))

    def get_streams(self, tunables=None, **kwargs):
        a = parse_tunables(_tunables_parser(), tunables, kwargs)
        sizes, ratio = _int_list(a.sizes), _int_list(a.ratio)
        if not sizes or len(sizes) != len(ratio) or min(ratio) < 1:
            raise ValueError("sizes and ratio need the same number of entries, ratios at least 1")
        if a.clients < 1 or a.ports < 1 or a.sport_base < 1 or a.sport_base + a.ports - 1 > 65535:
            raise ValueError("bad clients / ports / sport_base")
        first = ipaddress.IPv4Address(a.client_base)
        last = first + (a.clients - 1)
        return [self.create_stream(a, size, pps, first, last) for size, pps in zip(sizes, ratio)]


def register():
    return STLS1()
