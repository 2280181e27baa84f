"""Suites 2 and 3 of tools/bench: dplb-dataplane behind a real PMD, with Debian's dpdk-testpmd
as traffic source and sink.

    generator (testpmd, io forwarding)            dplb-dataplane (one worker)
    net_pcap0 rx_pcap=flows.pcap,infinite_rx=1 --> net_memif0 (server) <==> net_memif0 (client)
    (what comes back on memif is dplb's output:        VIP -> real servers (static neighbours)
     its RX count is what dplb forwarded)

The generator replays a pcap of 64-byte UDP frames from many clients to the VIP as fast as it
can; dplb rewrites them toward eight real servers (FULLNAT, NAT, DR or TUN) out of the same
memif port. The ceiling is the same path with a second testpmd forwarding memif -> memif (io)
in dplb's place. The generator runs on CPU 0, the forwarder's worker on CPU 1. Every process,
socket, hugepage file and /var/run/dpdk/<prefix> it makes is removed, also on failure.
"""
import contextlib
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from pathlib import Path

VIP = "192.0.2.100"
DP_MAC = "02:00:00:00:00:10"
REALS = [f"10.0.1.{i}" for i in range(1, 9)]
FORWARD_FLAG = {"fullnat": "-b", "nat": "-m", "dr": "-g", "tun": "-i"}


def die_with_parent():
    """preexec_fn: the child gets SIGKILL if this process dies, so a killed benchmark never
    leaves a busy-polling dataplane or generator behind (PR_SET_PDEATHSIG survives exec)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG


def kill_group(p, sig):
    with contextlib.suppress(ProcessLookupError):
        os.killpg(p.pid, sig)


def ip_bytes(a):
    return bytes(int(x) for x in a.split("."))


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def udp_frame(src, sport, dst, dport):
    """60 bytes (64 on the wire): Ethernet, IPv4 (DF), UDP with 18 bytes of payload."""
    payload = b"dplb-bench-payload"[:18]
    udp_len = 8 + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0, 0x4000, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    pseudo = src + dst + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    csum = checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    eth = bytes.fromhex(DP_MAC.replace(":", "")) + bytes.fromhex("0200000000c1") + b"\x08\x00"
    return eth + ip + udp


def write_pcap(path, flows, dport=53):
    """`flows` UDP flows from 100.64.0.0/10 clients (50000 ports each) to VIP:dport."""
    vip = ip_bytes(VIP)
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(flows):
            n = 0x64400000 + i // 50000
            frame = udp_frame(struct.pack("!I", n), 10000 + i % 50000, vip, dport)
            f.write(struct.pack("<IIII", 0, 0, len(frame), len(frame)))
            f.write(frame)


def port_stats(text):
    """{port: {"rx": N, "tx": N, "missed": N}} from testpmd's `show port stats all`."""
    out = {}
    for m in re.finditer(r"NIC statistics for port (\d+).*?RX-packets:\s*(\d+)\s+RX-missed:\s*(\d+).*?"
                         r"TX-packets:\s*(\d+)", text, re.S):
        out[int(m.group(1))] = {"rx": int(m.group(2)), "missed": int(m.group(3)), "tx": int(m.group(4))}
    return out


class Testpmd:
    """An interactive dpdk-testpmd driven through its stdin."""

    def __init__(self, work, name, lcores, vdevs, extra, log):
        self.prefix = f"dplbb{os.getpid()}{name}"
        self.log = open(log, "w")
        argv = ["stdbuf", "-o0", "-e0", "dpdk-testpmd", "--lcores", lcores, "--no-pci", "--in-memory", "--file-prefix", self.prefix,
                "--log-level", "lib.eal:error"]
        for v in vdevs:
            argv += ["--vdev", v]
        argv += ["--", "-i", "--forward-mode=io", "--nb-cores=1", "--burst=32", "--rxd=1024", "--txd=1024"] + extra
        self.out_path = Path(log)
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=self.log, stderr=subprocess.STDOUT,
                                  text=True, start_new_session=True, preexec_fn=die_with_parent)

    def send(self, cmd):
        self.p.stdin.write(cmd + "\n")
        self.p.stdin.flush()

    def stats(self, nports=2, timeout=10):
        """Cumulative port counters: the `nports` blocks `show port stats all` adds to the log
        after the ones already there, each complete (its closing line of #s written)."""
        head = "NIC statistics for port"
        before = self.out_path.read_text(errors="replace").count(head)
        self.send("show port stats all")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.out_path.read_text(errors="replace")
            starts = [m.start() for m in re.finditer(head, text)]
            if len(starts) >= before + nports:
                blocks = [text[starts[before + i]:starts[before + i + 1] if before + i + 1 < len(starts) else len(text)]
                          for i in range(nports)]
                if all(re.search(r"\n\s*#{40,}\s*\n", blk) for blk in blocks):
                    stats = port_stats("".join(blocks))
                    if len(stats) == nports:
                        return stats
            time.sleep(0.05)
        raise RuntimeError(f"testpmd did not answer:\n{self.out_path.read_text(errors='replace')[-2000:]}")

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.p.poll() is not None:
                raise RuntimeError(f"testpmd exited:\n{self.out_path.read_text(errors='replace')[-3000:]}")
            if "testpmd>" in self.out_path.read_text(errors="replace"):
                return
            time.sleep(0.1)
        raise RuntimeError("testpmd did not start")

    def close(self):
        if self.p.poll() is None:
            try:
                self.send("stop")
                self.send("quit")
                self.p.wait(timeout=10)
            except (BrokenPipeError, subprocess.TimeoutExpired, OSError):
                pass
        if self.p.poll() is None:
            kill_group(self.p, signal.SIGKILL)
            self.p.wait()
        self.log.close()
        shutil.rmtree(f"/var/run/dpdk/{self.prefix}", ignore_errors=True)


class Harness:
    """The generator, and dplb (dataplane + control) or the ceiling forwarder, over memif."""

    def __init__(self, build, flows, dataplane_cpu="1", driver_cpu="0"):
        self.build = Path(build)
        self.tmp = Path(tempfile.mkdtemp(prefix="dplb-bench-"))
        self.flows = flows
        self.dataplane_cpu, self.driver_cpu = dataplane_cpu, driver_cpu
        self.sock = self.tmp / "memif.sock"
        self.pcap = self.tmp / "flows.pcap"
        self.procs, self.testpmds, self.logs = [], [], []
        self.dp_prefix = f"dplbb{os.getpid()}dp"
        self.gen = None
        try:
            write_pcap(self.pcap, flows)
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Stops everything this harness started; each step runs even if another failed."""
        try:
            for t in self.testpmds:
                with contextlib.suppress(Exception):
                    t.close()
            for p in self.procs:
                if p.poll() is None:
                    kill_group(p, signal.SIGTERM)
                    try:
                        p.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        kill_group(p, signal.SIGKILL)
                        p.wait()
            for f in self.logs:
                f.close()
        finally:
            shutil.rmtree(f"/var/run/dpdk/{self.dp_prefix}", ignore_errors=True)
            shutil.rmtree(self.tmp, ignore_errors=True)

    def start_generator(self):
        mbufs = self.flows + 32768
        self.gen = Testpmd(self.tmp, "gen", f"0@{self.driver_cpu},1@{self.driver_cpu}",
                           [f"net_pcap0,rx_pcap={self.pcap},infinite_rx=1", f"net_memif0,role=server,socket={self.sock}"],
                           [f"--total-num-mbufs={mbufs}"], self.tmp / "gen.log")
        self.testpmds.append(self.gen)
        self.gen.wait_ready()

    def start_ceiling(self):
        t = Testpmd(self.tmp, "ceil", f"0@{self.driver_cpu},1@{self.dataplane_cpu}",
                    [f"net_memif0,role=client,socket={self.sock}"], ["--port-topology=loop"], self.tmp / "ceil.log")
        self.testpmds.append(t)
        t.wait_ready()
        t.send("start")

    def spawn(self, argv, log):
        out = open(self.tmp / log, "w")
        self.logs.append(out)
        p = subprocess.Popen([str(a) for a in argv], stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                             preexec_fn=die_with_parent)
        self.procs.append(p)
        return p

    def adm(self, *args, input=None):
        r = subprocess.run(["taskset", "-c", self.driver_cpu, self.build / "tools/dplbadm/dplbadm", "--socket",
                            self.control_sock, *map(str, args)], capture_output=True, text=True, input=input,
                           timeout=600)
        if r.returncode != 0:
            raise RuntimeError(f"dplbadm {' '.join(map(str, args))}: {r.stderr.strip()}")
        return r.stdout

    def start_dplb(self, max_services=16384, idle="busy", vdev=None):
        """vdev: the port's device (default: the memif client of the generator's socket)."""
        vdev = vdev or f"net_memif0,role=client,socket={self.sock},mac={DP_MAC}"
        cfg = {"eal": ["--lcores", f"0@{self.driver_cpu},1@{self.dataplane_cpu}", "--no-pci", "--in-memory",
                       "--file-prefix", self.dp_prefix, "--log-level", "lib.eal:error", "--vdev", vdev],
               "idle": idle, "control_socket": str(self.tmp / "dataplane.sock"), "sessions_per_worker": 1 << 20,
               "max_services": max_services,
               "ports": [{"name": "lan", "device": vdev.split(",")[0], "addresses": ["10.0.0.1/16"]}],
               "neighbors": [{"port": "lan", "address": r, "mac": f"02:00:00:00:01:{i + 1:02x}"}
                             for i, r in enumerate(REALS)]}
        path = self.tmp / "dataplane.json"
        path.write_text(json.dumps(cfg))
        dp = self.spawn(["taskset", "-c", self.dataplane_cpu, self.build / "dataplane/dplb-dataplane", "--config", path],
                        "dataplane.log")
        self._wait(lambda: (self.tmp / "dataplane.sock").exists() or dp.poll() is not None, 30, "dataplane socket")
        if dp.poll() is not None:
            raise RuntimeError("dplb-dataplane exited:\n" + (self.tmp / "dataplane.log").read_text())
        self.control_sock = str(self.tmp / "control.sock")
        # /metrics on a port free now (bench_control.py scrapes it), not the default 9469 that
        # a dplb on this machine may hold.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.metrics_url = f"http://127.0.0.1:{port}/metrics"
        ctl = self.spawn(["taskset", "-c", self.driver_cpu, self.build / "control/dplb-control", "--socket",
                          self.control_sock, "--dataplane-socket", self.tmp / "dataplane.sock", "--state",
                          self.tmp / "state.json", "--metrics-listen", f"127.0.0.1:{port}"], "control.log")
        self._wait(lambda: Path(self.control_sock).exists() or ctl.poll() is not None, 15, "control socket")
        self._wait(lambda: self.status().get("dataplane") == "connected", 15, "control connected")

    def status(self):
        try:
            return json.loads(self.adm("--status", "--json"))
        except (RuntimeError, json.JSONDecodeError):
            return {}

    def worker_counters(self):
        st = self.status()["dataplane_status"]
        w = st["workers"][0]
        return {"rx": w["rx_packets"], "tx": w["tx_packets"], "drops": sum(st.get("drops", {}).values()),
                "drops_by_reason": st.get("drops", {})}

    def configure(self, mode):
        self.adm("-A", "-u", f"{VIP}:53", "-s", "rr")
        if mode == "fullnat":
            self.adm("--add-laddr", "-z", "10.0.100.1", "-u", f"{VIP}:53")
            self.adm("--add-laddr", "-z", "10.0.100.2", "-u", f"{VIP}:53")
        for r in REALS:
            port = "" if mode in ("dr", "tun") else ":8053"
            self.adm("-a", "-u", f"{VIP}:53", "-r", f"{r}{port}", FORWARD_FLAG[mode])

    @staticmethod
    def _wait(pred, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred():
                return
            time.sleep(0.05)
        raise RuntimeError(f"timed out waiting for {what}")

    def measure(self, seconds, during=None):
        """Starts the generator, lets it run 1 s, then measures `seconds`: offered (generator
        memif TX), forwarded (generator memif RX) and, with dplb, its own counters. `during`
        runs (on this thread) inside the measured window."""
        self.gen.send("start")
        time.sleep(1.0)
        a = self.gen.stats()
        dp_a = self.worker_counters() if self.procs else None
        t0 = time.monotonic()
        if during:
            during()
        rest = seconds - (time.monotonic() - t0)
        if rest > 0:
            time.sleep(rest)
        b = self.gen.stats()
        dp_b = self.worker_counters() if self.procs else None
        t = time.monotonic() - t0
        self.gen.send("stop")
        # Offered: what the generator read from the pcap; sent: what the memif ring toward the
        # forwarder accepted (the rest the generator drops when that ring is full); forwarded:
        # what came back. `loss` is 1 - forwarded / sent: what the forwarder took and lost.
        offered = b[0]["rx"] - a[0]["rx"]
        sent = b[1]["tx"] - a[1]["tx"]
        forwarded = b[1]["rx"] - a[1]["rx"]
        out = {"seconds": round(t, 3), "offered_packets": offered, "sent_packets": sent,
               "forwarded_packets": forwarded, "offered_mpps": round(offered / t / 1e6, 3),
               "sent_mpps": round(sent / t / 1e6, 3), "forwarded_mpps": round(forwarded / t / 1e6, 3),
               "loss": round(1 - forwarded / sent, 6) if sent else None}
        if dp_a:
            out["dplb_rx"] = dp_b["rx"] - dp_a["rx"]
            out["dplb_tx"] = dp_b["tx"] - dp_a["tx"]
            out["dplb_drops"] = dp_b["drops"] - dp_a["drops"]
            out["dplb_drops_by_reason"] = {k: v - dp_a["drops_by_reason"].get(k, 0)
                                           for k, v in dp_b["drops_by_reason"].items()
                                           if v != dp_a["drops_by_reason"].get(k, 0)}
        return out
