# TRex stateless profile: 64-byte UDP to one dplb VIP from many flows (Mpps / NDR).
#
# Every packet goes client -> VIP:vport. The flows are the cartesian product of
# `clients` source addresses (from client_base) and `ports` source ports (from
# sport_base), enumerated by a tuple generator: address first, then port, so
# clients * ports distinct 5-tuples repeat in a fixed cycle. After the first cycle
# every packet belongs to an established dplb session: this is the TRex form of
# the in-tree "pipeline" suite's established-flow case (tools/bench suite 1) and of
# the testpmd-over-memif suite (suite 2). The frames are the ones those suites
# build: 60 bytes + FCS, IPv4 with DF, UDP with 18 bytes of payload to VIP:53,
# clients from 100.64.0.0 with 50000 source ports each from 10000; the defaults
# (20 clients x 50000 ports) are their 1 M-session case.
#
# The IPv4 header checksum is recomputed after the source is rewritten; the UDP
# checksum is 0 ("none computed", valid for IPv4, as in the in-tree frames), which
# dplb keeps as 0 when it rewrites the packet.
#
# trex-console (stateless server: ./t-rex-64 -i):
#   start -f tools/trex/udp_64b_many_flows.py -p 0 -m 10mpps -d 30 -t --clients 20 --ports 50000
# The tunables go after -t, which must be the last option. The older form
# "-t clients=20,ports=50000" and the ndr tool's "--prof-tun clients=20,ports=50000"
# also work. Addresses match configs/dataplane-trex.json and configs/services-trex.txt.

import ipaddress
import os
import sys

try:
    from trex.stl.api import *  # noqa: F401,F403  TRex >= 2.6x package layout
except ImportError:
    from trex_stl_lib.api import *  # noqa: F401,F403  older layout

# dplb_tunables.py sits next to the profiles; TRex loads a profile by path, not as a package.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dplb_tunables import flag, parse_tunables, stateless_parser  # noqa: E402,F401


def _tunables_parser():
    p = stateless_parser(__file__, "64-byte UDP to a dplb VIP from many client addresses and ports",
                         vport=53, client_base="100.64.0.0", clients=20)
    p.add_argument("--size", type=int, default=64, help="frame size in bytes, FCS included")
    return p


class STLS1(object):
    def create_stream(self, a):
        if a.clients < 1 or a.ports < 1:
            raise ValueError("clients and ports must be at least 1")
        if a.sport_base < 1 or a.sport_base + a.ports - 1 > 65535:
            raise ValueError("source ports %d..%d are not within 1..65535" % (a.sport_base, a.sport_base + a.ports - 1))
        if not 64 <= a.size <= 9216:
            raise ValueError("size must be between 64 and 9216")
        first = ipaddress.IPv4Address(a.client_base)
        last = first + (a.clients - 1)

        base = Ether() / IP(src=str(first), dst=a.vip, flags="DF") / UDP(sport=a.sport_base, dport=a.vport, chksum=0)
        pad = max(0, a.size - 4 - len(base))  # the NIC appends the 4-byte FCS
        pkt = base / ("x" * pad)

        vm = STLScVmRaw([
            STLVmTupleGen(name="flow", ip_min=str(first), ip_max=str(last),
                          port_min=a.sport_base, port_max=a.sport_base + a.ports - 1,
                          limit_flows=min(a.clients * a.ports, 0x7fffffff)),
            STLVmWrFlowVar(fv_name="flow.ip", pkt_offset="IP.src"),
            STLVmFixIpv4(offset="IP"),
            STLVmWrFlowVar(fv_name="flow.port", pkt_offset="UDP.sport"),
        ])
        # Rate comes from -m (e.g. "-m 10mpps" or "-m 100%").
        return STLStream(name="udp_%dB" % a.size, packet=STLPktBuilder(pkt=pkt, vm=vm), mode=STLTXCont())

    def get_streams(self, tunables=None, **kwargs):
        args = parse_tunables(_tunables_parser(), tunables, kwargs)
        return [self.create_stream(args)]


# dynamic load, used by trex-console, the simulator and the ndr tool
def register():
    return STLS1()
