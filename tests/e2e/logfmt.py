"""The dplb log line's shape (docs/operations.md, "Logs"; common/log.hpp): a parser that
accepts only well-formed lines, for tests that read dplb-control's and dplb-dataplane's logs."""
import re

LEVELS = ("debug", "info", "notice", "warning", "error")
_PAIR = re.compile(r'([a-z0-9_]+)=("(?:[^"\\]|\\.)*"|[^\s"=]+)(?: |$)')
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}


def _unquote(v):
    if not v.startswith('"'):
        return v
    out, i, body = [], 0, v[1:-1]
    while i < len(body):
        c = body[i]
        if c == "\\":
            n = body[i + 1]
            if n == "u":
                out.append(chr(int(body[i + 2:i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES[n])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def parse(line):
    """A dict of the line's keys, in order; raises ValueError on a line not in the shape."""
    fields, at = {}, 0
    while at < len(line):
        m = _PAIR.match(line, at)
        if not m:
            raise ValueError(f"not key=value at column {at}: {line!r}")
        if m.group(1) in fields:
            raise ValueError(f"key {m.group(1)} twice: {line!r}")
        fields[m.group(1)] = _unquote(m.group(2))
        at = m.end()
    return fields


def parse_log(text, proc):
    """Every dplb line of a process's stderr (lines starting 'ts='; DPDK's own EAL lines keep
    their shape and are skipped), checked: ts, level, proc first, then event or msg."""
    lines = []
    for raw in text.splitlines():
        if not raw.startswith("ts="):
            continue
        f = parse(raw)
        keys = list(f)
        if keys[:3] != ["ts", "level", "proc"] or f["proc"] != proc or f["level"] not in LEVELS:
            raise ValueError(f"not ts, level, proc={proc} first: {raw!r}")
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", f["ts"]):
            raise ValueError(f"ts is not RFC 3339 UTC with ms: {raw!r}")
        if len(keys) < 4 or keys[3] not in ("event", "msg"):
            raise ValueError(f"no event (or msg) after proc: {raw!r}")
        lines.append(f)
    return lines
