"""Tunables shared by dplb's TRex profiles: each profile describes its tunables with an
argparse parser (so `--help` works in trex-console), and this reads them from either form
TRex passes them in."""


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
