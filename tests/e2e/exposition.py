"""Prometheus text exposition pages (dplb-control's /metrics) read into samples, for the labs
that scrape one (test_metrics_lab.py, test_ha_lab.py)."""
import re

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(page):
    """[(name, {label: value}, float)] of every sample of an exposition page."""
    out = []
    for line in page.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        out.append((m.group(1), dict(LABEL.findall(m.group(2) or "")), float(m.group(3))))
    return out


def value(samples, name, **labels):
    """The one sample of `name` whose labels include `labels` (raises unless exactly one)."""
    found = [v for n, lbl, v in samples if n == name and all(lbl.get(k) == w for k, w in labels.items())]
    assert len(found) == 1, f"{name}{labels}: {len(found)} samples"
    return found[0]


def by_label(samples, name, label):
    """{value of `label`: sample value} of every sample of `name`."""
    return {lbl.get(label): v for n, lbl, v in samples if n == name}
