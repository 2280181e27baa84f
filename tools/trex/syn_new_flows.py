# TRex stateless profile: TCP SYN only, every packet a new 5-tuple (connections per second).
#
# Each SYN to VIP:vport misses dplb's session table, so dplb schedules a real
# server, takes a FULLNAT local port, creates a session and forwards the SYN to
# TRex port 1, which only counts it (stateless: no SYN-ACK comes back). The
# forwarded SYN rate is therefore the rate of new connections dplb sustains: the
# TRex form of the in-tree pipeline suite's new-flow case (tools/bench suite 1),
# with the same frames: a bare 20-byte TCP header with SYN to VIP:80, IPv4 with
# DF, clients from 100.96.0.0, source ports from 10000.
#
# Source address and port vary over clients * ports combinations:
#   --op random (default): both drawn at random per packet, as TRex's own SYN
#     profiles do; with the default 65536 * 50000 (3.3e9) combinations a repeat
#     within a 10 M-packet run is about 0.15 % of packets.
#   --op inc: a tuple generator enumerating every combination once per cycle.
# A repeated tuple hits the session its first SYN created and is not a new
# connection, so read the CPS from dplb (dplbadm -L -n --rate) as well as from
# TRex's port 1 rx rate.
#
# Sessions of unanswered SYNs stay in SYN_RECV for 60 s (IPVS's timeout) and hold
# their local port: see docs/benchmarking.md for how long a run may be.
#
# The frame is Ether/IPv4/TCP (54 bytes); the NIC pads it to the 64-byte minimum
# on the wire, as the in-tree frames are padded. IPv4 and TCP checksums are fixed by the NIC
# (STLVmFixChecksumHw); --sw_csum 1 fixes only the IPv4 checksum in software, for
# NICs without the offload (dplb does not verify TCP checksums).
#
# trex-console (stateless server):
#   start -f tools/trex/syn_new_flows.py -p 0 -m 1mpps -d 10 -t --op random

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


def _tunables_parser():
    p = stateless_parser(__file__, "TCP SYN to a dplb VIP, every packet a new 5-tuple",
                         vport=80, client_base="100.96.0.0", clients=65536)
    p.add_argument("--op", choices=("random", "inc"), default="random", help="how source address and port vary")
    p.add_argument("--seed", type=int, default=0x1234, help="random seed of the stream (op random)")
    p.add_argument("--sw_csum", type=flag, default=False, help="1: fix only the IPv4 checksum, in software")
    return p


class STLS1(object):
    def create_stream(self, a):
        if a.clients < 1 or a.ports < 1:
            raise ValueError("clients and ports must be at least 1")
        if a.sport_base < 1 or a.sport_base + a.ports - 1 > 65535:
            raise ValueError("source ports %d..%d are not within 1..65535" % (a.sport_base, a.sport_base + a.ports - 1))
        if a.op not in ("random", "inc"):
            raise ValueError("op must be random or inc")
        first = ipaddress.IPv4Address(a.client_base)
        last = first + (a.clients - 1)
        port_max = a.sport_base + a.ports - 1

        pkt = (Ether() / IP(src=str(first), dst=a.vip, flags="DF") /
               TCP(sport=a.sport_base, dport=a.vport, flags="S", seq=1, window=65535))

        if a.op == "inc":
            cmds = [
                STLVmTupleGen(name="flow", ip_min=str(first), ip_max=str(last),
                              port_min=a.sport_base, port_max=port_max,
                              limit_flows=min(a.clients * a.ports, 0x7fffffff)),
                STLVmWrFlowVar(fv_name="flow.ip", pkt_offset="IP.src"),
                STLVmWrFlowVar(fv_name="flow.port", pkt_offset="TCP.sport"),
            ]
        else:
            cmds = [
                STLVmFlowVar(name="src_ip", min_value=str(first), max_value=str(last), size=4, op="random"),
                STLVmFlowVar(name="src_port", min_value=a.sport_base, max_value=port_max, size=2, op="random"),
                STLVmWrFlowVar(fv_name="src_ip", pkt_offset="IP.src"),
                STLVmWrFlowVar(fv_name="src_port", pkt_offset="TCP.sport"),
            ]
        if a.sw_csum:
            cmds.append(STLVmFixIpv4(offset="IP"))
        else:
            cmds.append(STLVmFixChecksumHw(l3_offset="IP", l4_offset="TCP", l4_type=CTRexVmInsFixHwCs.L4_TYPE_TCP))

        return STLStream(name="syn_new_flows", packet=STLPktBuilder(pkt=pkt, vm=STLScVmRaw(cmds)),
                         random_seed=a.seed, mode=STLTXCont())

    def get_streams(self, tunables=None, **kwargs):
        args = parse_tunables(_tunables_parser(), tunables, kwargs)
        return [self.create_stream(args)]


def register():
    return STLS1()
