"""systemd unit files read and run without systemd (PID 1 is not systemd on these machines).

Reads a unit's [Service] section the way systemd does for what the package's units use:
Environment= and EnvironmentFile= (later assignments win), and the Exec*= command lines with
systemd's expansion: "${VAR}" stays one word, a word that is exactly "$VAR" becomes the
value's whitespace-separated words (none when empty), "$$" is "$", and a leading "-" makes a
failure ignored. Used by test_package.py to run the installed units' commands with the test's
paths; not a general unit parser (no specifiers, no drop-ins, no line continuations).
"""
import re
import shlex
from pathlib import Path


def read_unit(path):
    """{section: [(key, value), ...]} in file order (keys repeat: ExecStart=, Environment=)."""
    sections, current = {}, None
    for raw in Path(path).read_text().splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        if line.endswith("\\"):
            raise ValueError(f"{path}: line continuations are not supported here: {raw}")
        key, _, value = line.partition("=")
        current.append((key.strip(), value.strip()))
    return sections


def values(unit, section, key):
    return [v for k, v in unit.get(section, []) if k == key]


def value(unit, section, key, default=None):
    found = values(unit, section, key)
    return found[-1] if found else default


def parse_environment_file(path):
    """KEY=VALUE lines; quotes removed as systemd removes them; comments and blanks skipped."""
    env = {}
    for raw in Path(path).read_text().splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        words = shlex.split(line, comments=True)
        if not words:
            continue
        key, _, val = " ".join(words).partition("=")
        env[key] = val
    return env


def service_environment(unit, environment_files=None):
    """The environment the unit's commands see: Environment= then EnvironmentFile= (a file
    given as "-PATH" may be missing). environment_files maps a path of the unit to the file
    to read instead (the test's own /etc/default/dplb)."""
    env = {}
    for assignment in values(unit, "Service", "Environment"):
        for word in shlex.split(assignment):
            k, _, v = word.partition("=")
            env[k] = v
    for spec in values(unit, "Service", "EnvironmentFile"):
        optional = spec.startswith("-")
        path = spec.lstrip("-")
        path = (environment_files or {}).get(path, path)
        if not Path(path).exists():
            if optional:
                continue
            raise FileNotFoundError(f"EnvironmentFile {path} of the unit is missing")
        env.update(parse_environment_file(path))
    return env


_BRACED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_BARE = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)$")


def expand_command(line, env):
    """(argv, ignore_failure) of one Exec*= line."""
    ignore = False
    while line and line[0] in "-@:+!":
        if line[0] == "-":
            ignore = True
        elif line[0] in "@:+!":
            raise ValueError(f"Exec prefix {line[0]!r} not supported here: {line}")
        line = line[1:]
    argv = []
    for word in shlex.split(line):
        m = _BARE.match(word)
        if m:
            argv.extend(env.get(m.group(1), "").split())
            continue
        word = _BRACED.sub(lambda mm: env.get(mm.group(1), ""), word)
        argv.append(word.replace("$$", "$"))
    return argv, ignore
