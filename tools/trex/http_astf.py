# TRex ASTF (advanced stateful) profile: HTTP-like request/response through a dplb
# VIP, for connections per second and concurrent flows.
#
# TRex plays both ends. Its client side (port 0) opens TCP connections from the
# client range to VIP:vport. dplb schedules a real server and rewrites the
# connection (FULLNAT: LIP:lport -> RIP:rport); the rewritten SYN leaves dplb's
# lan port towards TRex port 1, whose server side accepts it because the server
# template is associated with the destination port only (not with an address),
# answers, and sends its replies to its default gateway, dplb's lan address.
# dplb rewrites them back to VIP -> client. So the dplb service's real servers
# must be addresses routed to TRex port 1, on the port given as --rport
# (configs/services-trex.txt: 10.0.1.1-10.0.1.8 port 8080, routed via 10.10.0.2
# in configs/dataplane-trex.json). With NAT (-m) real servers instead of FULLNAT
# the same holds; TRex's server side then answers the client address directly,
# still through its default gateway, dplb.
#
# Per connection: `requests` times (send a request of req_size bytes, receive a
# response of resp_size bytes, optionally wait think_usec), then the client closes
# with FIN (--close fin) or RST (--close rst). dplb keeps a closed connection's
# session and local port for TIME_WAIT (120 s) after a FIN close, for CLOSE (10 s)
# after an RST, which bounds the sustainable CPS for a given number of local
# addresses: see docs/benchmarking.md.
#
# Connections per second = -m * cps (cps tunable, default 1); concurrent flows
# = CPS * connection lifetime (raise requests / think_usec for more).
#
# trex-console (ASTF server: ./t-rex-64 -i --astf):
#   start -f tools/trex/http_astf.py -m 50000 -d 60 -t --requests 1 --req_size 100 --resp_size 1000

import argparse
import ipaddress
import os
import sys

try:
    from trex.astf.api import *  # noqa: F401,F403
except ImportError:
    from trex_astf_lib.api import *  # noqa: F401,F403

# dplb_tunables.py sits next to the profiles; TRex loads a profile by path, not as a package.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dplb_tunables import flag, parse_tunables  # noqa: E402,F401


def _tunables_parser():
    p = argparse.ArgumentParser(prog=os.path.basename(__file__),
                                description="HTTP-like TCP connections through a dplb VIP (CPS, concurrent flows)",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--vip", default="192.0.2.100", help="virtual service address (TRex's server address)")
    p.add_argument("--vport", type=int, default=80, help="virtual service TCP port (the clients' destination)")
    p.add_argument("--rport", type=int, default=8080,
                   help="real servers' port: the destination port TRex's server side accepts connections on")
    p.add_argument("--client_base", default="100.96.0.0", help="first client address")
    p.add_argument("--clients", type=int, default=4096, help="number of client addresses")
    p.add_argument("--req_size", type=int, default=100, help="bytes per request")
    p.add_argument("--resp_size", type=int, default=1000, help="bytes per response (headers included)")
    p.add_argument("--requests", type=int, default=1, help="requests per connection")
    p.add_argument("--think_usec", type=int, default=0, help="client delay after each response, in microseconds")
    p.add_argument("--close", choices=("fin", "rst"), default="fin", help="how the client ends the connection")
    p.add_argument("--cps", type=float, default=1.0, help="connections per second before the -m multiplier")
    return p


def http_request(vip, size):
    head = "GET /bench HTTP/1.1\r\nHost: %s\r\nUser-Agent: dplb-trex\r\nX-Pad: " % vip
    tail = "\r\n\r\n"
    pad = max(0, size - len(head) - len(tail))
    return (head + "p" * pad + tail).encode("ascii")


def http_response(size):
    body_len = 0
    for _ in range(3):  # the header's length depends on the digits of Content-Length
        head = "HTTP/1.1 200 OK\r\nServer: trex\r\nContent-Length: %d\r\n\r\n" % body_len
        body_len = max(0, size - len(head))
    head = "HTTP/1.1 200 OK\r\nServer: trex\r\nContent-Length: %d\r\n\r\n" % body_len
    return (head + "b" * body_len).encode("ascii")


class Prof1(object):
    def create_profile(self, a):
        if a.requests < 1:
            raise ValueError("requests must be at least 1")
        if a.clients < 1:
            raise ValueError("clients must be at least 1")
        req = http_request(a.vip, a.req_size)
        resp = http_response(a.resp_size)

        # client: `requests` times: send, wait for the whole response; then close
        prog_c = ASTFProgram()
        prog_c.set_var("left", a.requests)
        prog_c.set_label("next_request:")
        prog_c.send(req)
        prog_c.recv(len(resp), True)  # True: clear the byte counter for the next round
        if a.think_usec > 0:
            prog_c.delay(a.think_usec)
        prog_c.jmp_nz("left", "next_request:")
        if a.close == "rst":
            prog_c.reset()

        # server: answer each request, then wait for the client to close
        prog_s = ASTFProgram()
        prog_s.set_var("left", a.requests)
        prog_s.set_label("next_request:")
        prog_s.recv(len(req), True)
        prog_s.send(resp)
        prog_s.jmp_nz("left", "next_request:")
        prog_s.wait_for_peer_close()

        first = ipaddress.IPv4Address(a.client_base)
        last = first + (a.clients - 1)
        ip_gen = ASTFIPGen(glob=ASTFIPGenGlobal(ip_offset="1.0.0.0"),  # offset only for further port pairs
                           dist_client=ASTFIPGenDist(ip_range=[str(first), str(last)], distribution="seq"),
                           dist_server=ASTFIPGenDist(ip_range=[a.vip, a.vip], distribution="seq"))

        temp_c = ASTFTCPClientTemplate(program=prog_c, ip_gen=ip_gen, port=a.vport, cps=a.cps)
        # Associated by destination port only: the server side accepts whatever address dplb
        # rewrote the destination to (the real server), from whatever source (the local address).
        temp_s = ASTFTCPServerTemplate(program=prog_s, assoc=ASTFAssociationRule(port=a.rport))
        template = ASTFTemplate(client_template=temp_c, server_template=temp_s)

        return ASTFProfile(default_ip_gen=ip_gen, templates=template)

    def get_profile(self, tunables=None, **kwargs):
        return self.create_profile(parse_tunables(_tunables_parser(), tunables, kwargs))


def register():
    return Prof1()
