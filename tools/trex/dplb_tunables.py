"""Tunables shared by dplb's TRex profiles: each profile describes its tunables with an
argparse parser (so `--help` works in trex-console), and this reads them from either form
TRex passes them in."""
import argparse
import os


def stateless_parser(path, description, vport, client_base, clients):
    """The tunables every stateless profile has: the VIP, and the client addresses and
    source ports its flows come from (`path`: the profile's __file__)."""
    p = argparse.ArgumentParser(prog=os.path.basename(path), description=description,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--vip", default="192.0.2.100", help="virtual service address")
    p.add_argument("--vport", type=int, default=vport, help="virtual service port")
    p.add_argument("--client_base", default=client_base, help="first client source address")
    p.add_argument("--clients", type=int, default=clients, help="number of client source addresses")
    p.add_argument("--sport_base", type=int, default=10000, help="first client source port")
    p.add_argument("--ports", type=int, default=50000, help="number of source ports per client address")
    return p


def flag(value):
    """A boolean tunable: 1/true/yes/on (any case) are true."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def parse_tunables(parser, tunables, kwargs):
    """New-style tunables are an argv list; old-style ("-t a=1,b=2", ndr --prof-tun) arrive as keywords."""
    if isinstance(tunables, dict):
        kwargs = dict(kwargs, **tunables)
        tunables = None
    args = parser.parse_args(list(tunables) if tunables else [])
    for key, value in kwargs.items():
        if key in vars(args):
            current = getattr(args, key)
            setattr(args, key, flag(value) if isinstance(current, bool) else type(current)(value))
    return args
