#!/usr/bin/env python3
"""Draws panels of dplb's Grafana dashboard (configs/grafana/dplb.json) from a Prometheus
server's /api/v1/query_range, without Grafana: the panel's own queries, Grafana's variables
substituted (tools/dashboard_queries.py), one subplot per panel, as a PNG.

    tools/prometheus_plot.py --url http://127.0.0.1:9090 --since 120 --out plot.png
    tools/prometheus_plot.py --url ... --start 1796680000 --end 1796680120 --step 1 \\
        --panel "New connections/s per real server" --panel "Drops/s by reason" --out plot.png

The PNG in docs/images/prometheus-lab.png was drawn by this tool during the Prometheus lab
(tests/e2e/test_prometheus_lab.py with DPLB_PROMETHEUS_PLOT=PATH; docs/operations.md).
Needs matplotlib (python3-matplotlib) only to draw; fetch() is importable without it."""
import argparse
import json
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dashboard_queries as dq  # noqa: E402

DEFAULT_PANELS = ("New connections/s per real server", "Real server health", "Drops/s by reason",
                  "Sessions per worker")


def http_get(base_url):
    """get(path, params) -> the `data` of a Prometheus API answer, over HTTP."""
    def get(path, params):
        url = f"{base_url.rstrip('/')}{path}?{urllib.parse.urlencode(params, doseq=True)}"
        with urllib.request.urlopen(url, timeout=30) as r:
            body = json.loads(r.read())
        if body.get("status") != "success":
            raise RuntimeError(f"{url}: {body}")
        return body["data"]
    return get


def fetch(get, dashboard, title, start, end, step, values=None):
    """The panel's series over [start, end]: (panel, [(legend, [(t, v), ...]), ...])."""
    panel = dq.find_panel(dashboard, title)
    series = []
    for t in panel["targets"]:
        expr = dq.substitute(t["expr"], values)
        data = get("/api/v1/query_range", {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}",
                                           "step": str(step)})
        for r in data["result"]:
            series.append((dq.legend(t.get("legendFormat"), r["metric"]),
                           [(float(ts), float(v)) for ts, v in r["values"]]))
    return panel, sorted(series, key=lambda s: s[0])


def draw(fetched, out, start, step, title=None):
    """fetched: [(panel, series), ...] from fetch(); one subplot each, time in seconds from
    `start` on the x axis (`step`: the query's)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(fetched), 1, figsize=(10, 2.6 * len(fetched)), sharex=True, squeeze=False)
    for ax, (panel, series) in zip(axes[:, 0], fetched):
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
        stacked = panel.get("fieldConfig", {}).get("defaults", {}).get("custom", {}) \
            .get("stacking", {}).get("mode") == "normal"
        if panel["type"] == "state-timeline":
            # Grafana's state timeline: one row per series, each sample's state for one step.
            for row, (name, pts) in enumerate(series):
                bars = [(t - start, step, v) for t, v in pts]
                ax.broken_barh([(x, w) for x, w, _ in bars], (row - 0.4, 0.8),
                               facecolors=["tab:green" if v >= 1 else "tab:red" for _, _, v in bars])
                if bars:
                    ax.text(bars[0][0], row, f" {name}", va="center", fontsize=7, color="white")
            ax.set_yticks([])
            ax.set_ylim(-0.6, len(series) - 0.4)
            ax.invert_yaxis()
            ax.set_title(f"{panel['title']} (green up, red down)", fontsize=10, loc="left")
            ax.grid(alpha=0.3, axis="x")
            continue
        # Prometheus evaluated every `step`: a series missing at a step has no value there
        # (0 once stacked: a `> 0` filter removed it; a gap in a line).
        first = min((pts[0][0] for _, pts in series), default=start)
        last = max((pts[-1][0] for _, pts in series), default=start)
        grid = [first + k * step for k in range(round((last - first) / step) + 1)]
        x = [t - start for t in grid]

        def on_grid(pts, missing):
            have = {round(t, 3): v for t, v in pts}
            return [have.get(round(t, 3), missing) for t in grid]
        if stacked and series:
            ax.stackplot(x, [on_grid(pts, 0.0) for _, pts in series], labels=[name for name, _ in series],
                         step="post")
        else:
            for name, pts in series:
                ax.step(x, on_grid(pts, float("nan")), where="post", label=name)
        ax.set_title(panel["title"], fontsize=10, loc="left")
        ax.set_ylabel({"cps": "conn/s", "pps": "packets/s", "Bps": "bytes/s", "short": ""}.get(unit, unit), fontsize=9)
        ax.grid(alpha=0.3)
        if series:
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
        else:
            ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center")
    axes[-1, 0].set_xlabel("seconds")
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True, help="the Prometheus server, e.g. http://127.0.0.1:9090")
    ap.add_argument("--dashboard", default=str(dq.DASHBOARD))
    ap.add_argument("--start", type=float, help="unix time (default: --since seconds before --end)")
    ap.add_argument("--end", type=float, help="unix time (default: now)")
    ap.add_argument("--since", type=float, default=300)
    ap.add_argument("--step", type=float, default=1)
    ap.add_argument("--rate-interval", default="5s", help="what $__rate_interval stands for")
    ap.add_argument("--panel", action="append", help="a panel title (repeatable); default: " +
                    ", ".join(DEFAULT_PANELS))
    ap.add_argument("--var", action="append", default=[], help="NAME=REGEX for a dashboard variable")
    ap.add_argument("--title")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    end = a.end or time.time()
    start = a.start or end - a.since
    values = {"__rate_interval": a.rate_interval, "__interval": f"{a.step:g}s",
              **dict(v.split("=", 1) for v in a.var)}
    dashboard = dq.load(a.dashboard)
    get = http_get(a.url)
    fetched = [fetch(get, dashboard, t, start, end, a.step, values) for t in (a.panel or DEFAULT_PANELS)]
    draw(fetched, a.out, start, a.step, a.title)
    summary = ", ".join(f"{p['title']} ({len(s)} series)" for p, s in fetched)
    print(f"{a.out}: {summary}")


if __name__ == "__main__":
    main()
