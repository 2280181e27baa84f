"""Link faults on the memif benchmark path (docs/hardening.md, "Link faults").

tools/bench_pmd.py's set-up: a dpdk-testpmd generator (memif server, CPU 0, its own EAL file
prefix) replays UDP flows to a FULLNAT service of dplb-dataplane (memif client, CPU 1), and
counts on its memif RX what dplb forwarded. The generator is killed with SIGKILL mid-traffic
and started again, three times: dplb must reconnect by itself (DPDK's memif client connects
only when its port starts), forwarding must resume within 2 s of the new peer being up, and
the sessions made before the first kill must be the ones still forwarding after the last
(same client -> local address:port -> real server; no session created since).

The same for a net_tap port whose kernel side stays in dplb's namespace: its kernel side is set
down by hand, dplb sees the link drop and restarts the port, which sets it up again.
"""
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import bench_pmd  # noqa: E402  (the memif benchmark path's generator and harness)

from lab import BUILD_DIR, wait_until  # noqa: E402

FLOWS = 16
FLAPS = 3
RESUME_LIMIT_S = 2.0


def forwarded(h):
    """What the generator received back on its memif port: what dplb forwarded."""
    return h.gen.stats()[1]["rx"]


def sessions(h):
    """{(source, virtual): (destination, local)} of `dplbadm -L -c -n`."""
    out = {}
    for line in h.adm("-L", "-c", "-n").splitlines()[2:]:
        f = line.split()
        if len(f) >= 7:
            out[(f[3], f[4])] = (f[5], f[6])
    return out


def port(h):
    return h.status()["dataplane_status"]["ports"][0]


def created(h):
    return sum(w["sessions_created"] for w in h.status()["dataplane_status"]["workers"])


def restart_peer(h):
    """SIGKILLs the generator mid-traffic and starts a new one; returns (seconds from kill to
    the new peer forwarding again, seconds from the new peer's start to that)."""
    t_kill = time.monotonic()
    bench_pmd.kill_group(h.gen.p, signal.SIGKILL)
    h.gen.p.wait()
    h.gen.close()
    h.testpmds.remove(h.gen)
    wait_until(lambda: port(h)["link"] != "up", 5, "dplb to see its memif link drop")
    h.sock.unlink(missing_ok=True)  # a killed memif server leaves its socket file behind
    h.start_generator()
    h.gen.send("start")
    t_peer = time.monotonic()
    deadline = t_peer + RESUME_LIMIT_S + 3  # measure past the limit, to report how far past
    while time.monotonic() < deadline:
        if forwarded(h) > 0:
            t = time.monotonic()
            return t - t_kill, t - t_peer
        time.sleep(0.05)
    raise AssertionError(f"dplb did not forward again within {RESUME_LIMIT_S + 3} s of the peer's restart; "
                         f"port: {port(h)}")


def test_memif_peer_restarts():
    with bench_pmd.Harness(BUILD_DIR, FLOWS) as h:
        h.start_generator()
        h.start_dplb(max_services=16, idle="auto")
        h.configure("fullnat")
        assert port(h)["link_recovery"] == "restart", port(h)
        h.gen.send("start")
        wait_until(lambda: forwarded(h) > 0, 10, "first forwarded packets")
        wait_until(lambda: len(sessions(h)) == FLOWS, 10, f"{FLOWS} sessions")
        before = sessions(h)
        created_before = created(h)

        timings = []
        for _ in range(FLAPS):
            timings.append(restart_peer(h))
        for i, (since_kill, since_peer) in enumerate(timings):
            print(f"LINKFAULT-MEASURE flap={i + 1} kill_to_forwarding_s={since_kill:.3f} "
                  f"peer_start_to_forwarding_s={since_peer:.3f}")
        assert all(since_peer < RESUME_LIMIT_S for _, since_peer in timings), timings

        # The same sessions forward after the flaps: every flow still maps to the same real
        # server and local port, and none was created again.
        a = forwarded(h)
        wait_until(lambda: forwarded(h) > a + 1000, 5, "forwarding after the flaps")
        assert sessions(h) == before
        assert created(h) == created_before

        p = port(h)
        print(f"LINKFAULT-STATUS {p}")
        assert p["link"] == "up"
        assert p["link_down_events"] == FLAPS
        assert p["link_recoveries"] == FLAPS
        assert p["link_recovery_attempts"] >= FLAPS
        log = (h.tmp / "dataplane.log").read_text()
        for line in log.splitlines():
            if "event=port_" in line or "not ready port" in line:
                print(f"LINKFAULT-LOG {line}")
        assert "not ready port" not in log  # no worker touched a stopped port
        assert len(re.findall(r"event=port_link_down .*port=lan", log)) == FLAPS, log[-3000:]
        assert len(re.findall(r"event=port_link_up .*port=lan", log)) == FLAPS, log[-3000:]
        assert all(p.poll() is None for p in h.procs), "dplb exited"


def test_tap_kernel_side_down():
    tap = f"lft{os.getpid() % 100000}"
    with bench_pmd.Harness(BUILD_DIR, 1) as h:
        h.start_dplb(max_services=16, idle="auto", vdev=f"net_tap0,iface={tap}")
        wait_until(lambda: port(h)["link"] == "up", 10, "the tap's link up")
        assert port(h)["link_recovery"] == "restart", port(h)
        subprocess.run(["ip", "link", "set", tap, "down"], check=True, timeout=10)
        t0 = time.monotonic()
        wait_until(lambda: port(h)["link_recoveries"] == 1, 5, "dplb to bring the tap back")
        print(f"LINKFAULT-MEASURE tap_down_to_up_s={time.monotonic() - t0:.3f}")
        p = port(h)
        print(f"LINKFAULT-STATUS {p}")
        assert p["link"] == "up" and p["link_down_events"] == 1 and p["link_recovery_attempts"] >= 1, p
        flags = subprocess.run(["ip", "-o", "link", "show", tap], capture_output=True, text=True, timeout=10).stdout
        assert ",UP" in flags, flags
        assert all(p.poll() is None for p in h.procs), "dplb exited"
