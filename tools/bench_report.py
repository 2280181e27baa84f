"""tools/bench's report: the summary table (Markdown), the plots (PNG, matplotlib), and the
results section of docs/performance.md, all from results.json as measured."""
import json
import shutil
from pathlib import Path

BEGIN, END = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"

# The issue's targets and the competitors' published figures (../shared/notes/anchors.md).
TARGET_NS_FULLNAT = 100
TARGET_CPS = 1_000_000
TARGET_BYTES_PER_SESSION = 256
DPVS_PMD_MPPS = {"fullnat": 3.83, "dr": 5.02}


def fmt(n, digits=1):
    if n is None:
        return "-"
    if isinstance(n, int) or float(n).is_integer() and abs(n) >= 1000:
        return f"{int(n):,}"
    return f"{n:,.{digits}f}"


def table(head, rows):
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def verdict(ok, miss):
    return "met" if ok else f"missed: {miss}"


def targets(res):
    """The issue's targets against this run, computed from it (so they never go stale)."""
    rows = []
    pipe = res.get("pipeline", [])
    est = sorted((r for r in pipe if r["phase"] == "established" and r["mode"] == "fullnat"), key=lambda r: r["sessions"])
    if est:
        worst = max(est, key=lambda r: r["ns_per_packet"])
        rows.append(["FULLNAT established <= 100 ns/packet per worker",
                     ", ".join(f"{fmt(r['ns_per_packet'])} ns @ {fmt(r['sessions'])}" for r in est),
                     verdict(worst["ns_per_packet"] <= TARGET_NS_FULLNAT,
                             f"{worst['ns_per_packet'] / TARGET_NS_FULLNAT - 1:.0%} over at {fmt(worst['sessions'])} sessions")])
        big = est[-1]
        rows.append([f"<= {TARGET_BYTES_PER_SESSION} bytes per session at {fmt(big['sessions'])} sessions",
                     f"{fmt(big['table_bytes_per_session'])} B (table), {fmt(big['rss_bytes_per_session'])} B (RSS)",
                     verdict(big["rss_bytes_per_session"] <= TARGET_BYTES_PER_SESSION,
                             f"{big['rss_bytes_per_session'] / TARGET_BYTES_PER_SESSION - 1:.0%} over")])
    new = {r["mode"]: r for r in pipe if r["phase"] == "new"}
    if new:
        low = min(new.values(), key=lambda r: r["connections_per_second"])
        rows.append(["new connections >= 1,000,000/s per worker",
                     ", ".join(f"{m} {r['connections_per_second'] / 1e6:.2f} M/s" for m, r in new.items()),
                     verdict(low["connections_per_second"] >= TARGET_CPS,
                             f"{low['mode']} {1 - low['connections_per_second'] / TARGET_CPS:.0%} short")])
    for mode, dpvs in DPVS_PMD_MPPS.items():
        rs = [r for r in res.get("pmd", []) if r["mode"] == mode]
        if rs:
            worst = min(rs, key=lambda r: r["forwarded_mpps"])
            rows.append([f"through a PMD, {mode} >= 2 x DPVS ({dpvs} Mpps)",
                         ", ".join(f"{fmt(r['forwarded_mpps'], 2)} Mpps ({r['forwarded_mpps'] / dpvs:.2f} x) @ {fmt(r['flows'])} flows"
                                   for r in rs),
                         verdict(worst["forwarded_mpps"] >= 2 * dpvs,
                                 f"{1 - worst['forwarded_mpps'] / (2 * dpvs):.0%} short at {fmt(worst['flows'])} flows")])
    for r in res.get("control", []):
        if r.get("what") == "scrape" and r["services"] >= 10000:
            rows.append([f"/metrics scrape, {fmt(r['services'])} services x {r['reals_per_service']}: < 100 ms",
                         f"p50 {fmt(r['p50_ms'], 3)} ms, p99 {fmt(r['p99_ms'], 3)} ms",
                         verdict(r["p99_ms"] < 100, f"p99 {r['p99_ms'] / 100:.1f} x the target")])
        if r.get("what") == "idle" and r["services"] >= 10000:
            sch = r["scheduler"]
            for what, ch in r["changes"].items():
                for how in ("dplbadm", "socket"):
                    c = ch[how]
                    if sch == "rr":
                        ok = c["p50_ms"] <= 2 and c["p99_ms"] <= 10
                        rows.append([f"one real-server {what} ({how}, rr): p50 <= 2 ms, p99 <= 10 ms",
                                     f"p50 {fmt(c['p50_ms'], 3)} ms, p99 {fmt(c['p99_ms'], 3)} ms",
                                     verdict(ok, f"p50 {c['p50_ms'] / 2:.1f} x, p99 {c['p99_ms'] / 10:.1f} x the target")])
                    else:
                        rows.append([f"one real-server {what} ({how}, mh): p50 <= 5 ms",
                                     f"p50 {fmt(c['p50_ms'], 3)} ms, p99 {fmt(c['p99_ms'], 3)} ms",
                                     verdict(c["p50_ms"] <= 5, f"{c['p50_ms'] / 5:.1f} x the target")])
            if "flips" in r:
                f = r["flips"]
                rows.append(["1,000 weight flips, 10 clients: >= 2,000/s, p99 <= 20 ms",
                             f"{fmt(f['flips_per_second'])}/s, p99 {fmt(f['p99_ms'], 3)} ms",
                             verdict(f["flips_per_second"] >= 2000 and f["p99_ms"] <= 20,
                                     f"{f['flips_per_second'] / 2000:.2f} x the rate, p99 {f['p99_ms'] / 20:.2f} x")])
            if sch == "rr":
                rows.append([f"`dplbadm -R` {fmt(r['services'])} x {r['reals_per_service']} (rr) live in <= 300 ms",
                             f"{fmt(r['restore_seconds'] * 1000)} ms",
                             verdict(r["restore_seconds"] <= 0.3, f"{r['restore_seconds'] / 0.3:.1f} x over")])
            if "set_timeouts" in r:
                c = r["set_timeouts"]
                rows.append(["`--set` of timeouts live in <= 5 ms (dplbadm)",
                             f"p50 {fmt(c['p50_ms'], 3)} ms, p99 {fmt(c['p99_ms'], 3)} ms",
                             verdict(c["p50_ms"] <= 5, f"{c['p50_ms'] / 5:.1f} x over")])
        if r.get("what") == "changes_under_traffic":
            rows.append([f"zero packets lost across {r['changes']} config changes",
                         f"{fmt(r['lost_by_dplb'])} dropped by dplb's processing (tx_full {fmt(r['tx_full'])}, "
                         f"{fmt(r['baseline_tx_full'])} without changes)",
                         verdict(r["lost_by_dplb"] == 0, f"{fmt(r['lost_by_dplb'])} lost")])
    if not rows:
        return ""
    return "\n**Against the targets** (issues 5 and 10):\n\n" + table(["target", "measured", "verdict"], rows)


def summary(res):
    m = res["machine"]
    out = [f"Measured {m['date']} on {m['cpu']} ({m['cores']} cores, {m['memory_gib']} GiB), "
           f"kernel {m['kernel']}, commit {m['commit']}{' (smoke run)' if res.get('smoke') else ''}.\n"]
    pipe = res.get("pipeline", [])
    if pipe:
        est = [r for r in pipe if r["phase"] == "established"]
        sizes = sorted({r["sessions"] for r in est})
        rows = []
        for mode in ["fullnat", "nat", "dr", "tun"]:
            by = {r["sessions"]: r for r in est if r["mode"] == mode}
            rows.append([mode] + [f"{fmt(by[s]['ns_per_packet'])} ns / {fmt(by[s]['mpps'], 2)} Mpps" if s in by else "-"
                                  for s in sizes])
        out.append("\n**Suite 1, established flows** (64-byte UDP, one worker, ns per packet / Mpps):\n\n")
        out.append(table(["mode"] + [f"{fmt(s)} sessions" for s in sizes], rows))
        rows = []
        for mode in ["fullnat", "nat", "dr", "tun"]:
            new = next((r for r in pipe if r["mode"] == mode and r["phase"] == "new"), None)
            mix = next((r for r in pipe if r["mode"] == mode and r["phase"] == "mix"), None)
            rows.append([mode, fmt(new["connections_per_second"]) if new else "-",
                         fmt(new["ns_per_packet"]) if new else "-",
                         f"{fmt(mix['ns_per_packet'])} ns / {fmt(mix['mpps'], 2)} Mpps" if mix else "-"])
        out.append("\n**Suite 1, new connections and mix** (every packet a SYN of a new 5-tuple; mix: one such SYN in "
                   "every 10 packets over established flows):\n\n")
        out.append(table(["mode", "connections/s", "ns per new connection", "mix"], rows))
        big = max(est, key=lambda r: r["sessions"]) if est else None
        if big:
            out.append(f"\nMemory at {fmt(big['sessions'])} sessions ({big['mode']}): "
                       f"{fmt(big['table_bytes_per_session'])} bytes per session in the session table, "
                       f"{fmt(big['rss_bytes_per_session'])} bytes per session of process RSS growth. "
                       f"Harness share (copy + parse of each frame): {fmt(big['copy_parse_ns'])} ns per packet.\n")
    st = res.get("session_table", [])
    if st:
        out.append("\n**Suite 4, session table alone:**\n\n")
        out.append(table(["sessions", "insert/s", "lookup/s (hit)", "lookup/s (miss)", "expire/s", "table B/session",
                          "RSS B/session"],
                         [[fmt(r["sessions"]), fmt(r["insert_per_second"]), fmt(r["lookup_per_second"]),
                           fmt(r["miss_lookup_per_second"]), fmt(r["expire_per_second"]),
                           fmt(r["table_bytes_per_session"]), fmt(r["rss_bytes_per_session"])] for r in st]))
    pmd = res.get("pmd", [])
    if pmd:
        out.append("\n**Suite 2, through a PMD** (testpmd pcap replay -> memif -> one dplb worker -> memif; "
                   "64-byte UDP):\n\n")
        rows = []
        for r in pmd:
            dpvs = DPVS_PMD_MPPS.get(r["mode"])
            rows.append([r["mode"], fmt(r["flows"]), fmt(r["offered_mpps"], 2), fmt(r["sent_mpps"], 2),
                         fmt(r["forwarded_mpps"], 2), f"{r['loss']:.4%}" if r.get("loss") is not None else "-",
                         fmt(r.get("fraction_of_ceiling"), 3) if r.get("fraction_of_ceiling") else "-",
                         f"{r['forwarded_mpps'] / dpvs:.2f}x" if dpvs else "-"])
        out.append(table(["forwarder", "flows", "offered Mpps", "accepted Mpps", "forwarded Mpps", "loss",
                          "of ceiling", "vs DPVS 1 worker"], rows))
    ctl = res.get("control", [])
    if ctl:
        out.append("\n**Suite 3, control plane:**\n\n")
        rows = []
        for r in ctl:
            if r.get("what") == "idle":
                rows.append([f"`dplbadm -R` {fmt(r['services'])} services x {r['reals_per_service']} ({r['scheduler']}), worker idle",
                             f"{fmt(r['restore_seconds'], 3)} s to live; dataplane memory "
                             f"{fmt(r['dataplane_rss_growth_kib'] / 1024, 1)} MiB ({fmt(r['dataplane_bytes_per_service'])} B per service)"])
                for what, ch in r["changes"].items():
                    rows.append([f"one real-server {what} ({r['scheduler']})",
                                 f"dplbadm: p50 {fmt(ch['dplbadm']['p50_ms'], 3)} / p99 {fmt(ch['dplbadm']['p99_ms'], 3)} ms "
                                 f"(n={ch['dplbadm']['n']}); socket request: p50 {fmt(ch['socket']['p50_ms'], 3)} / "
                                 f"p99 {fmt(ch['socket']['p99_ms'], 3)} ms (n={ch['socket']['n']})"])
                if "flips" in r:
                    f = r["flips"]
                    rows.append([f"{fmt(f['flips'])} weight flips from {f['clients']} concurrent clients",
                                 f"{fmt(f['flips_per_second'])} flips/s; p50 {fmt(f['p50_ms'], 3)} / p99 {fmt(f['p99_ms'], 3)} ms"])
                if "set_timeouts" in r:
                    c = r["set_timeouts"]
                    rows.append(["`dplbadm --set` (global timeouts)",
                                 f"p50 {fmt(c['p50_ms'], 3)} / p99 {fmt(c['p99_ms'], 3)} ms (n={c['n']})"])
                if "scrape" in r:
                    rows.append(scrape_row(r["scrape"], r["services"], r["reals_per_service"]))
            elif r.get("what") == "scrape":
                rows.append(scrape_row(r, r["services"], r["reals_per_service"]))
            elif r.get("what") == "changes_under_traffic":
                rows.append([f"{r['changes']} real-server changes under FULLNAT traffic ({r['seconds']} s window)",
                             f"{fmt(r['lost_by_dplb'])} packets dropped by dplb for any reason but tx_full, of "
                             f"{fmt(r['dplb_rx'])} received ({fmt(r['forwarded_mpps'], 2)} Mpps forwarded; "
                             f"{fmt(r['baseline_forwarded_mpps'], 2)} Mpps without changes); tx_full (the "
                             f"generator not draining memif) {fmt(r['tx_full'])}, {fmt(r['baseline_tx_full'])} in the "
                             f"same window without changes; change latency p50 {fmt(r['latency']['p50_ms'], 3)} / "
                             f"p99 {fmt(r['latency']['p99_ms'], 3)} ms"])
            elif r.get("suite") == "maglev":
                rows.append([f"Maglev table, {fmt(r['size'])} positions, {r['reals']} servers",
                             f"{fmt(r['median_ms'], 3)} ms median ({fmt(r['min_ms'], 3)}-{fmt(r['max_ms'], 3)})"])
        out.append(table(["what", "measured"], rows))
    out.append(targets(res))
    return "".join(out)


def scrape_row(c, services, reals):
    return [f"Prometheus scrape of /metrics, {fmt(services)} services x {reals}",
            f"p50 {fmt(c['p50_ms'], 3)} / p99 {fmt(c['p99_ms'], 3)} ms (n={c['n']}); "
            f"{fmt(c['bytes'] / 1e6, 1)} MB, {fmt(c['samples'])} samples"]


def plots(res, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pipe = res.get("pipeline", [])
    est = [r for r in pipe if r["phase"] == "established"]
    if est:
        fig, ax = plt.subplots(figsize=(7, 4))
        for mode in ["fullnat", "nat", "dr", "tun"]:
            rs = sorted((r for r in est if r["mode"] == mode), key=lambda r: r["sessions"])
            ax.plot([r["sessions"] for r in rs], [r["mpps"] for r in rs], marker="o", label=mode)
        ax.set_xscale("log")
        ax.set_xlabel("established flows (sessions)")
        ax.set_ylabel("Mpps, one worker")
        ax.set_title("Suite 1: packets/s vs number of flows (64-byte UDP)")
        ax.grid(True, alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "pps_vs_flows.png", dpi=110)
        plt.close(fig)

        fig, ax = plt.subplots(figsize=(7, 4))
        sizes = sorted({r["sessions"] for r in est})
        width = 0.8 / len(sizes)
        modes = ["fullnat", "nat", "dr", "tun"]
        for k, s in enumerate(sizes):
            vals = [next((r["ns_per_packet"] for r in est if r["mode"] == m and r["sessions"] == s), 0) for m in modes]
            ax.bar([i + k * width for i in range(len(modes))], vals, width, label=f"{s:,} sessions")
        ax.axhline(TARGET_NS_FULLNAT, color="red", linestyle="--", linewidth=1, label="target (FULLNAT) 100 ns")
        ax.set_xticks([i + width * (len(sizes) - 1) / 2 for i in range(len(modes))], modes)
        ax.set_ylabel("ns per packet")
        ax.set_title("Suite 1: ns/packet per mode")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "ns_per_packet.png", dpi=110)
        plt.close(fig)

        new = [r for r in pipe if r["phase"] == "new"]
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.bar([r["mode"] for r in new], [r["connections_per_second"] / 1e6 for r in new], color="tab:green")
        ax.axhline(TARGET_CPS / 1e6, color="red", linestyle="--", linewidth=1, label="target 1 M/s")
        ax.axhline(0.2, color="gray", linestyle=":", linewidth=1, label="DPVS 1 worker 0.2 M/s")
        ax.set_ylabel("million new connections/s, one worker")
        ax.set_title("Suite 1: new connections per second")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "cps.png", dpi=110)
        plt.close(fig)

    ctl = res.get("control", [])
    if ctl:
        fig, ax = plt.subplots(figsize=(7, 4))
        labels, vals = [], []
        for r in ctl:
            if r.get("what") == "idle":
                labels.append(f"-R {r['services']:,} svc ({r['scheduler']})")
                vals.append(r["restore_seconds"] * 1000)
                for what, ch in r["changes"].items():
                    labels.append(f"1 {what}, dplbadm p50 ({r['scheduler']})")
                    vals.append(ch["dplbadm"]["p50_ms"])
                if "flips" in r:
                    labels.append("flip p99, 10 clients (rr)")
                    vals.append(r["flips"]["p99_ms"])
            elif r.get("what") == "changes_under_traffic":
                labels.append("change under traffic p50")
                vals.append(r["latency"]["p50_ms"])
            elif r.get("suite") == "maglev":
                labels.append(f"Maglev 65537, {r['reals']} RS")
                vals.append(r["median_ms"])
        ax.barh(labels, vals, color="tab:purple")
        ax.set_xscale("log")
        ax.set_xlabel("milliseconds (log)")
        ax.set_title("Suite 3: update latency")
        fig.tight_layout()
        fig.savefig(out / "update_latency.png", dpi=110)
        plt.close(fig)


def update_docs(res, summary_md, out, docs):
    """Copies results and plots to docs/performance/ and rewrites the results section of
    docs/performance.md (between the bench markers)."""
    dest = docs / "performance"
    dest.mkdir(exist_ok=True)
    shutil.copy(out / "results.json", dest / "results.json")
    pngs = sorted(p.name for p in out.glob("*.png"))
    for p in pngs:
        shutil.copy(out / p, dest / p)
    section = [BEGIN, "", summary_md.strip(), ""]
    section += [f"![{p[:-4].replace('_', ' ')}](performance/{p})" for p in pngs]
    section += ["", "Raw figures: [performance/results.json](performance/results.json).", END]
    page = docs / "performance.md"
    text = page.read_text()
    a, b = text.index(BEGIN), text.index(END) + len(END)
    page.write_text(text[:a] + "\n".join(section) + text[b:])


if __name__ == "__main__":
    import sys
    print(summary(json.loads(Path(sys.argv[1]).read_text())))
