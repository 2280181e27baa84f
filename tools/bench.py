"""tools/bench's driver: runs the benchmark suites, writes results (JSON), a summary table and
plots, and with --update-docs rewrites the results section of docs/performance.md.

Suites (see docs/performance.md for what each measures and how to read it):
  pipeline       suite 1: the fast path in process, one worker, per mode: established flows
                 at 1k/100k/1M/10M sessions, new connections per second, a mix
  pmd            suite 2: dplb-dataplane (one worker) between dpdk-testpmd's pcap replay and
                 memif, per mode, and testpmd io forwarding in its place (the ceiling)
  control        suite 3 (tools/bench_control.py): dplbadm -R of 10,000 services x 8 real
                 servers, single changes inside it (p50/p99), 1,000 concurrent weight flips,
                 --set, dataplane memory, changes under suite 2's traffic, Maglev builds
  session_table  suite 4: insert/lookup/expire at 1M and 10M sessions, memory per session

--smoke runs every suite at tiny sizes in seconds and checks only that they run and their
packet counts add up (the test suite runs it); it writes nothing under docs/.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import bench_control  # noqa: E402
import bench_pmd  # noqa: E402

MODES = ["fullnat", "nat", "dr", "tun"]
DRIVER_CPU, DATAPLANE_CPU = "0", "1"


def progress(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run_json(argv, cpu=DATAPLANE_CPU, timeout=1800):
    r = subprocess.run(["taskset", "-c", cpu, *map(str, argv)], capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def check(cond, what):
    if not cond:
        raise AssertionError(what)


# ----- suite 1 ---------------------------------------------------------------------------
def suite_pipeline(build, smoke):
    exe = build / "tests/bench/pipeline_bench"
    sizes = [1000, 5000] if smoke else [1000, 100_000, 1_000_000, 10_000_000]
    packets = 200_000 if smoke else 20_000_000
    flows = 20_000 if smoke else 2_000_000
    out = []
    for mode in MODES:
        for n in sizes:
            progress(f"pipeline {mode}: established flows, {n} sessions")
            r = run_json([exe, "--mode", mode, "--phase", "established", "--sessions", n, "--packets", packets])
            check(r["forwarded"] + r["dropped"] == r["packets"] and r["dropped"] == 0,
                  f"pipeline {mode} {n}: forwarded {r['forwarded']} + dropped {r['dropped']} != {r['packets']}")
            out.append(r)
        progress(f"pipeline {mode}: new connections ({flows} SYNs of new 5-tuples)")
        r = run_json([exe, "--mode", mode, "--phase", "new", "--flows", flows])
        check(r["sessions_created"] == r["flows"] and r["forwarded"] == r["packets"], f"pipeline {mode} new: {r}")
        out.append(r)
        mix_sessions = sizes[1]
        progress(f"pipeline {mode}: mix ({mix_sessions} established flows, 1 new SYN in 10 packets)")
        r = run_json([exe, "--mode", mode, "--phase", "mix", "--sessions", mix_sessions, "--flows", packets // 10 + 1,
                      "--packets", packets])
        check(r["forwarded"] + r["dropped"] == r["packets"] and r["dropped"] == 0, f"pipeline {mode} mix: {r}")
        out.append(r)
    return out


# ----- suite 4 ---------------------------------------------------------------------------
def suite_session_table(build, smoke):
    out = []
    for n in ([10_000] if smoke else [1_000_000, 10_000_000]):
        progress(f"session table: {n} sessions")
        r = run_json([build / "tests/bench/session_table_bench", "--sessions", n])
        check(r["inserted"] == n and r["hits"] == r["lookups"] and r["expired"] == n, f"session table {n}: {r}")
        out.append(r)
    return out


# ----- suite 2 ---------------------------------------------------------------------------
def suite_pmd(build, smoke):
    seconds = 1 if smoke else 5
    out = []
    for flows in ([256] if smoke else [1024, 65536]):
        with bench_pmd.Harness(build, flows) as h:
            progress(f"pmd: ceiling (testpmd io forwarding in dplb's place), {flows} flows")
            h.start_generator()
            h.start_ceiling()
            r = h.measure(seconds)
            r.update(suite="pmd", mode="ceiling", flows=flows)
            out.append(r)
        for mode in MODES:
            with bench_pmd.Harness(build, flows) as h:
                progress(f"pmd: dplb {mode}, {flows} flows")
                h.start_generator()
                h.start_dplb()
                h.configure(mode)
                r = h.measure(seconds)
                r.update(suite="pmd", mode=mode, flows=flows)
                # Every packet dplb took in was forwarded or dropped with a reason (the two
                # counter reads are not atomic with the traffic: allow one burst each side).
                check(abs(r["dplb_rx"] - r["dplb_tx"] - r["dplb_drops"]) <= 64 and r["forwarded_packets"] > 0,
                      f"pmd {mode}: rx {r['dplb_rx']} != tx {r['dplb_tx']} + drops {r['dplb_drops']}")
                out.append(r)
    ceiling = {r["flows"]: r["forwarded_mpps"] for r in out if r["mode"] == "ceiling"}
    for r in out:
        if r["mode"] != "ceiling" and ceiling.get(r["flows"]):
            r["fraction_of_ceiling"] = round(r["forwarded_mpps"] / ceiling[r["flows"]], 3)
    return out


# ----- suite 3 ---------------------------------------------------------------------------
def suite_control(build, smoke):
    out = bench_control.suite(build, smoke, progress, check)
    progress("control: Maglev table builds (65537 positions)")
    for n in [8, 100]:
        m = run_json([build / "tests/bench/maglev_bench", "--size", 65537, "--reals", n, "--rounds", 5 if smoke else 50])
        check(m["filled"] == 65537, f"maglev: {m}")
        out.append(m)
    return out


# ----- output ----------------------------------------------------------------------------
def machine():
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem, 1), "kernel": platform.release(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "commit": commit}


def main():
    # A SIGTERM (meson's timeout, a kill) unwinds like an exception, so every harness's
    # cleanup runs; children also die with this process (bench_pmd.die_with_parent).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True, help="build directory with the benchmarks and dplb's programs")
    ap.add_argument("--out", required=True, help="directory for results.json, summary.md and the plots")
    ap.add_argument("--suites", default="pipeline,session_table,pmd,control")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--update-docs", action="store_true", help="rewrite the results section of docs/performance.md")
    ap.add_argument("--from-results", help="report an earlier run's results.json instead of running")
    args = ap.parse_args()
    build, out = Path(args.build).resolve(), Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    suites = {"pipeline": suite_pipeline, "session_table": suite_session_table, "pmd": suite_pmd,
              "control": suite_control}
    if args.from_results:
        results = json.loads(Path(args.from_results).read_text())
    else:
        results = {"machine": machine(), "smoke": args.smoke}
        names = args.suites.split(",")
        # Suites 2 and 3 need root (hugepages, DPDK) and Debian's dpdk-testpmd.
        if args.smoke and (os.geteuid() != 0 or not shutil.which("dpdk-testpmd")):
            skipped = [n for n in names if n in ("pmd", "control")]
            names = [n for n in names if n not in skipped]
            print(f"bench smoke: skipping {', '.join(skipped)} (needs root and dpdk-testpmd)", file=sys.stderr)
        for name in names:
            results[name] = suites[name](build, args.smoke)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    import bench_report  # noqa: E402 - matplotlib only where plots are made
    summary = bench_report.summary(results)
    (out / "summary.md").write_text(summary)
    if not args.smoke:
        bench_report.plots(results, out)
    if args.update_docs:
        bench_report.update_docs(results, summary, out, ROOT / "docs")
    print(summary)
    if args.smoke:
        print("bench smoke: every suite ran and its packet counts add up")


if __name__ == "__main__":
    main()
