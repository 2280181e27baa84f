"""The PromQL queries of dplb's Grafana dashboard (configs/grafana/dplb.json), read from the
JSON and made runnable without Grafana: Grafana's variables ($__rate_interval, $vip, ...)
replaced by values the caller chooses. Used by the dashboard's unit test, the Prometheus lab
(tests/e2e/test_prometheus_lab.py) and tools/prometheus_plot.py, so all three evaluate the
queries exactly as the dashboard holds them. Standard library only."""
import json
import re
from pathlib import Path

DASHBOARD = Path(__file__).resolve().parents[1] / "configs" / "grafana" / "dplb.json"

# What Grafana puts in for its built-in variables, for a Prometheus scraping every second
# (the lab's): $__rate_interval is max($__interval + scrape interval, 4 x scrape interval);
# $__interval is the panel's step (Grafana's default minimum is 15 s); $__range the time range.
BUILTIN_DEFAULTS = {"__rate_interval": "15s", "__interval": "15s", "__range": "5m",
                    "__range_s": "300", "__interval_ms": "15000"}
# `$name`, `${name}`, `${name:format}` and the deprecated `[[name]]`.
VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")


def load(path=DASHBOARD):
    return json.loads(Path(path).read_text())


# The row of the HA families (dplb_vip_owned, dplb_sync_*): they exist only on a director with
# vip_ownership "kernel" or a sync daemon, which the Prometheus lab has not; the HA lab
# (tests/e2e/test_ha_lab.py) checks them on live pages instead.
HA_ROW = "HA"


def panels_by_row(dashboard):
    """(row title, panel) of every panel, those nested in collapsed rows included; a row's
    title is "" before the first row."""
    row = ""
    for p in dashboard.get("panels", []):
        if p.get("type") == "row":
            row = p.get("title", "")
        yield row, p
        for nested in p.get("panels", []):
            yield row, nested


def panels(dashboard):
    """Every panel, those nested in collapsed rows included."""
    for _, p in panels_by_row(dashboard):
        yield p


def targets(dashboard, skip_rows=()):
    """(panel title, refId, expr, instant) of every query of the dashboard, in order; those of
    the rows titled in `skip_rows` left out."""
    for row, p in panels_by_row(dashboard):
        if row in skip_rows:
            continue
        for t in p.get("targets", []):
            yield p.get("title", ""), t.get("refId", ""), t.get("expr", ""), bool(t.get("instant"))


def query_variables(dashboard):
    """The dashboard's query variables: {name: their label_values(...) query}."""
    return {v["name"]: v.get("definition") or v.get("query", {}).get("query", "")
            for v in dashboard.get("templating", {}).get("list", []) if v.get("type") == "query"}


def variables_used(expr):
    return {next(g for g in m.groups() if g) for m in VARIABLE.finditer(expr)}


def substitute(expr, values=None):
    """expr with every Grafana variable replaced: `values` first ({"vip": "10\\.0\\.0\\.1"};
    a multi-value variable is a regex, as Grafana formats it for =~), then the built-ins'
    defaults above, then ".*" (a dashboard variable left at "All", whose allValue is ".*").
    Unknown built-ins (`$__something`) raise: the test must say what they are."""
    values = {**BUILTIN_DEFAULTS, **(values or {})}

    def one(m):
        name = next(g for g in m.groups() if g)
        if name in values:
            return str(values[name])
        if name.startswith("__"):
            raise KeyError(f"no value for Grafana's ${name} in: {expr}")
        return ".*"
    return VARIABLE.sub(one, expr)


def find_panel(dashboard, title):
    for p in panels(dashboard):
        if p.get("title") == title:
            return p
    raise KeyError(f"no panel titled {title!r} in the dashboard")


def legend(fmt, labels):
    """A series' name as Grafana draws it from the target's legendFormat ("{{real}}:...")."""
    if not fmt or fmt == "__auto":
        return ",".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "__name__") or "value"
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), fmt)
