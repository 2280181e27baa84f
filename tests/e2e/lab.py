"""Network-namespace labs for dplb's end-to-end tests.

A Lab owns everything it creates (namespaces, bridges, processes, temporary files, the
dataplane's /var/run/dpdk/<prefix>) and removes all of it on exit, including after a failed
assertion or an exception. Names carry the pytest process id, so a later run can sweep what a
killed run left behind without touching anyone else's.

CPU placement (see ../shared/notes/platform.md): the dataplane runs every lcore on CPU 1;
clients, servers, control and the test driver run on CPU 0.
"""

import atexit
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUILD_DIR = Path(os.environ.get("DPLB_BUILD_DIR", Path(__file__).resolve().parents[2] / "build"))
DATAPLANE = BUILD_DIR / "dataplane" / "dplb-dataplane"
CONTROL = BUILD_DIR / "control" / "dplb-control"
DPLBADM = BUILD_DIR / "tools" / "dplbadm" / "dplbadm"
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, with scapy; pyenv shims do not see it
HERE = Path(__file__).resolve().parent
NS_PREFIX = "dplbt"
DATAPLANE_CPU = 1
DRIVER_CPU = 0
XDP_DECAP_SOURCE = HERE / "xdp" / "ipip_decap.c"
HUGEPAGES = Path("/dev/hugepages")


def sh(*args, check=True, timeout=30, **kw):
    """Runs a command (argv list), returns CompletedProcess with text output."""
    return subprocess.run([str(a) for a in args], check=check, timeout=timeout,
                          capture_output=True, text=True, **kw)


def wait_until(predicate, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def _kill_stale(pids):
    """SIGKILLs the processes of a test run that was itself killed (their pids already checked
    against /proc): all stopped first, so a keepalived parent cannot respawn a child meanwhile."""
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass


def _processes_using(directory):
    """Pids whose command line names `directory` (Prometheus's --config.file, keepalived's
    --use-file/--pid, ...): the daemons of a killed run, found by what is unique to that run
    rather than by a pid file's number, which a new process may have taken since."""
    key = str(directory).encode()
    pids = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            if key in (p / "cmdline").read_bytes():
                pids.append(int(p.name))
        except OSError:  # gone meanwhile
            pass
    return pids


def sweep_stale():
    """Removes namespaces, DPDK run dirs and temporary directories left by test runs whose
    process is gone, killing first what still runs of them: processes in their namespaces and
    daemons naming their directories (Prometheus of prometheus_server.py, started in a new
    session with only a pid file to find it by, keepalived, ...). Done before removing, since
    without the directory nothing ties such a process to the dead run."""
    try:
        names = sh("ip", "netns", "list").stdout.split()
    except subprocess.CalledProcessError:
        return
    for parent in (Path("/var/run/dpdk"), Path(tempfile.gettempdir())):
        if not parent.is_dir():
            continue
        for d in parent.glob(f"{NS_PREFIX}*"):
            m = re.match(rf"{NS_PREFIX}(\d+)x", d.name)
            if m and d.is_dir() and not Path(f"/proc/{m.group(1)}").exists():
                _kill_stale(_processes_using(d))
                shutil.rmtree(d, ignore_errors=True)
    for name in names:
        m = re.match(rf"{NS_PREFIX}(\d+)x", name)
        if m and not Path(f"/proc/{m.group(1)}").exists():
            pids = sh("ip", "netns", "pids", name, check=False).stdout.split()
            _kill_stale([int(p) for p in pids if p.isdigit()])
            sh("ip", "netns", "del", name, check=False)
    # Hugepage files of dataplanes started with in_memory=False (Lab.start_dataplane).
    for f in HUGEPAGES.glob(f"{NS_PREFIX}*"):
        m = re.match(rf"{NS_PREFIX}(\d+)x", f.name)
        if m and not Path(f"/proc/{m.group(1)}").exists():
            f.unlink(missing_ok=True)


def remove_hugepage_files(eal_prefix):
    """Removes the hugepage files a dataplane with this EAL prefix left (without --in-memory,
    EAL keeps them after the process ends, even a clean one): <prefix>map_<n>."""
    for f in HUGEPAGES.glob(f"{eal_prefix}map_*"):
        f.unlink(missing_ok=True)


_xdp_decap_object = None


def xdp_decap_object():
    """The IPIP decapsulation XDP program (xdp/ipip_decap.c), compiled once per test process
    into a temporary directory removed when the process exits (and by sweep_stale if it is
    killed)."""
    global _xdp_decap_object
    if _xdp_decap_object is None:
        out = Path(tempfile.mkdtemp(prefix=f"{NS_PREFIX}{os.getpid()}x-xdp-"))
        atexit.register(shutil.rmtree, out, ignore_errors=True)
        obj = out / "ipip_decap.o"
        # linux/bpf.h needs <asm/types.h>, which Debian keeps under the multiarch directory
        # (gcc-multilib's /usr/include/asm link is not needed then).
        multiarch = sh("gcc", "-print-multiarch", check=False).stdout.strip() or "x86_64-linux-gnu"
        r = sh("clang", "-O2", "-g", "-Wall", "-Werror", "-target", "bpf", f"-I/usr/include/{multiarch}",
               "-c", XDP_DECAP_SOURCE, "-o", obj, check=False, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"building {XDP_DECAP_SOURCE} failed (apt-get install clang libbpf-dev):\n{r.stderr}")
        _xdp_decap_object = obj
    return _xdp_decap_object


class Host:
    """A network namespace with one interface on a lab segment."""

    def __init__(self, lab, name, ns, address):
        self.lab, self.name, self.ns, self.address = lab, name, ns, address

    def run(self, *args, check=True, timeout=30, input=None):
        return sh("ip", "netns", "exec", self.ns, "taskset", "-c", DRIVER_CPU, *args,
                  check=check, timeout=timeout, input=input)

    def spawn(self, *args, **kw):
        return self.lab.spawn(["ip", "netns", "exec", self.ns, "taskset", "-c", DRIVER_CPU, *args], **kw)

    def curl(self, url, timeout=5):
        """Body of one HTTP GET (a new TCP connection), or raises on failure."""
        return self.run("curl", "-sS", "--fail", "-m", timeout, url, timeout=timeout + 5).stdout

    def ping(self, address, count=3):
        return self.run("ping", "-c", count, "-W", 1, "-i", 0.2, address, check=False)

    def nft(self, ruleset):
        """Loads nftables rules (`nft -f` syntax) into this host's namespace: its tables go
        away with the namespace."""
        return self.run("nft", "-f", "-", input=ruleset)

    def sysctl(self, settings):
        """Sets {"net.ipv4.conf.all.arp_ignore": 1, ...} in this namespace."""
        for key, value in settings.items():
            sh("ip", "netns", "exec", self.ns, "sysctl", "-qw", f"{key}={value}")

    def mac(self, ifname="eth0"):
        return json.loads(sh("ip", "-j", "-n", self.ns, "link", "show", ifname).stdout)[0]["address"]


class Lab:
    """A set of namespaces joined by Linux bridges (segments), plus dplb's processes."""

    def __init__(self, parent=None, node=0):
        """parent: a second dataplane (and its dplb-control) in `parent`'s lab, as a Lab of its
        own for the dataplane methods (ha_lab.py's two directors): it shares the parent's
        namespaces, segments, hosts and processes (the parent's close removes them) and has
        its own files (a folder of the parent's), EAL prefix, interface names and MACs
        (`node`, 1..15, is in them)."""
        self.node = node
        # The fourth octet of the dataplane's port MACs (and their taps' kernel sides): a
        # second dataplane on the same segments needs another one.
        self.mac_tag = f"{node:02x}"
        self.dataplane = None
        self.dataplane_ports = []
        self.dataplane_config = None
        self.control = None
        self.taps = {}
        self.children = []
        if parent is not None:
            self.id = parent.id
            self.short = f"{parent.short}{node:x}"
            self.tmp = parent.tmp / f"node{node}"
            self.tmp.mkdir()
            self.namespaces, self.processes = parent.namespaces, parent.processes
            self.switch, self.segments, self.hosts = parent.switch, parent.segments, parent.hosts
            self.eal_prefix = f"{parent.id}n{node}"
            parent.children.append(self)
            return
        self.id = f"{NS_PREFIX}{os.getpid()}x{random.randrange(16**4):04x}"
        self.short = f"{random.randrange(16**5):05x}"  # for interface names (15-char limit)
        self.tmp = Path(tempfile.mkdtemp(prefix=f"{self.id}-"))
        self.namespaces = []
        self.processes = []
        self.switch = None
        self.segments = {}
        self.hosts = {}
        self.eal_prefix = self.id

    # ----- lifetime -------------------------------------------------------------------
    def __enter__(self):
        sweep_stale()
        self.switch = self.netns("sw")
        # A plain L2 switch: with br_netfilter the bridge would validate and drop malformed
        # IPv4 before the dataplane sees it, and the malformed-packet tests would test Linux.
        for table in ("iptables", "ip6tables", "arptables"):
            sh("ip", "netns", "exec", self.switch, "sysctl", "-qw", f"net.bridge.bridge-nf-call-{table}=0", check=False)
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        for p in reversed(self.processes):
            self._kill(p)
        self.processes.clear()
        for ns in reversed(self.namespaces):
            sh("ip", "netns", "del", ns, check=False)
        self.namespaces.clear()
        for lab in (self, *self.children):
            shutil.rmtree(f"/var/run/dpdk/{lab.eal_prefix}", ignore_errors=True)
            remove_hugepage_files(lab.eal_prefix)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def terminate(self, p, sig=signal.SIGTERM):
        """Stops one process this lab spawned (and its children), e.g. a tcpdump that must
        flush its capture file."""
        self._kill(p, sig)

    @staticmethod
    def _kill(p, sig=signal.SIGKILL):
        if p.poll() is None:
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)

    def spawn(self, argv, log=None, cpu=None):
        """Starts a process in its own process group (so killing it takes its children)."""
        if cpu is not None:
            argv = ["taskset", "-c", str(cpu), *argv]
        out = open(self.tmp / log, "ab") if log else subprocess.DEVNULL
        p = subprocess.Popen([str(a) for a in argv], stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        self.processes.append(p)
        return p

    def log(self, name):
        path = self.tmp / name
        return path.read_text(errors="replace") if path.exists() else ""

    # ----- topology -------------------------------------------------------------------
    def netns(self, role):
        ns = f"{self.id}-{role}"
        sh("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        return ns

    def segment(self, name):
        """A Linux bridge in the lab's switch namespace."""
        br = f"br{name}"[:15]
        sh("ip", "-n", self.switch, "link", "add", br, "type", "bridge")
        sh("ip", "-n", self.switch, "link", "set", br, "type", "bridge", "forward_delay", "0")
        sh("ip", "-n", self.switch, "link", "set", br, "up")
        self.segments[name] = br
        return br

    def host(self, name, segment, address, gateway=None):
        """A namespace attached to `segment` with `address` (CIDR) and an optional default route."""
        ns = self.netns(name)
        inside, outside = f"h{self.short}{len(self.hosts)}", f"s{self.short}{len(self.hosts)}"
        sh("ip", "link", "add", inside, "type", "veth", "peer", "name", outside)
        sh("ip", "link", "set", inside, "netns", ns)
        sh("ip", "link", "set", outside, "netns", self.switch)
        sh("ip", "-n", self.switch, "link", "set", outside, "master", self.segments[segment], "up")
        sh("ip", "-n", ns, "link", "set", inside, "name", "eth0")
        for feature in ("tx", "rx", "tso", "gso", "gro"):
            sh("ip", "netns", "exec", ns, "ethtool", "-K", "eth0", feature, "off", check=False)
        sh("ip", "-n", ns, "addr", "add", address, "dev", "eth0")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
        if gateway:
            sh("ip", "-n", ns, "route", "add", "default", "via", gateway)
        h = Host(self, name, ns, address.split("/")[0])
        self.hosts[name] = h
        return h

    def attach(self, host, segment, address, ifname="eth1"):
        """A second interface for `host` on `segment` (routers)."""
        inside, outside = f"h{self.short}{len(self.hosts)}{ifname[-1]}", f"s{self.short}{len(self.hosts)}{ifname[-1]}"
        sh("ip", "link", "add", inside, "type", "veth", "peer", "name", outside)
        sh("ip", "link", "set", inside, "netns", host.ns)
        sh("ip", "link", "set", outside, "netns", self.switch)
        sh("ip", "-n", self.switch, "link", "set", outside, "master", self.segments[segment], "up")
        sh("ip", "-n", host.ns, "link", "set", inside, "name", ifname)
        sh("ip", "-n", host.ns, "addr", "add", address, "dev", ifname)
        sh("ip", "-n", host.ns, "link", "set", ifname, "up")

    def router(self, name, a, b):
        """A namespace forwarding between two segments: a and b are (segment, "A.B.C.D/LEN")."""
        r = self.host(name, a[0], a[1])
        self.attach(r, b[0], b[1])
        sh("ip", "netns", "exec", r.ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        return r

    # ----- dplb processes --------------------------------------------------------------
    def start_dataplane(self, ports, workers=1, idle="auto", extra=None, twins=None, in_memory=True):
        """ports: list of (name, segment, "A.B.C.D/LEN"). Each becomes a net_tap port whose
        kernel side joins the segment's bridge. twins: {port name: interface name} of the
        ports that get a kernel twin (it appears in the root namespace: see move_twin), or
        {port name: {"name": ..., "netns": ...}} for a twin the dataplane moves into that
        namespace itself. in_memory=False: EAL shares its memory and configuration through
        hugepage files and /var/run/dpdk/<prefix>, so a secondary process (dpdk-dumpcap) can
        attach; the lab removes those files when the dataplane stops and when it closes."""
        self.dataplane_ports = ports
        lcores = ",".join(f"{i}@{DATAPLANE_CPU}" for i in range(workers + 1))
        eal = ["--lcores", lcores, "--no-pci", *(["--in-memory"] if in_memory else []), "--file-prefix",
               self.eal_prefix, "--log-level", "lib.eal:error"]
        cfg_ports = []
        for i, (name, segment, addr) in enumerate(ports):
            tap = f"t{self.short}{i}"
            self.taps[name] = (tap, segment)
            eal += ["--vdev", f"net_tap{i},iface={tap}"]
            cfg_ports.append({"name": name, "device": f"net_tap{i}", "addresses": [addr],
                              "mac": f"02:dd:00:{self.mac_tag}:0{i}:01"})
            if twins and name in twins:
                # A name, or the whole kernel_twin object ({"name": ..., "netns": ...}).
                twin = twins[name]
                cfg_ports[-1]["kernel_twin"] = dict(twin) if isinstance(twin, dict) else {"name": twin}
        self.dataplane_socket = str(self.tmp / "dataplane.sock")
        cfg = {"eal": eal, "idle": idle, "control_socket": self.dataplane_socket,
               "sessions_per_worker": 65536, "ports": cfg_ports}
        cfg.update(extra or {})
        self.dataplane_config = self.tmp / "dataplane.json"
        self.dataplane_config.write_text(json.dumps(cfg, indent=2))
        return self.restart_dataplane()

    def restart_dataplane(self):
        if self.dataplane is not None:
            self.stop_dataplane()
        self.dataplane = self.spawn([DATAPLANE, "--config", self.dataplane_config], log="dataplane.log",
                                    cpu=DATAPLANE_CPU)
        try:
            wait_until(lambda: Path(self.dataplane_socket).exists() or self.dataplane.poll() is not None,
                       30, "the dataplane socket")
            if self.dataplane.poll() is not None:
                raise RuntimeError(f"dplb-dataplane exited {self.dataplane.returncode}:\n{self.log('dataplane.log')}")
            for name, (tap, segment) in self.taps.items():
                idx = list(self.taps).index(name)

                def attach(tap=tap, segment=segment, idx=idx):
                    # After a SIGKILL the old tap (in the switch namespace) may still be being
                    # torn down while the new process creates its own in the root namespace: a
                    # step can then find no device, or the old one; try the sequence again
                    # until the new tap is on its bridge. The kernel side needs its own MAC,
                    # or the bridge thinks the DPDK MAC is local.
                    if sh("ip", "link", "show", tap, check=False).returncode == 0:
                        sh("ip", "link", "set", tap, "address", f"02:ee:00:{self.mac_tag}:0{idx}:01", check=False)
                        sh("ip", "link", "set", tap, "netns", self.switch, check=False)
                    sh("ip", "-n", self.switch, "link", "set", tap, "master", self.segments[segment], "up",
                       check=False)
                    if sh("ip", "link", "show", tap, check=False).returncode == 0:
                        return False  # the new tap is still here: the old one held the name there
                    shown = sh("ip", "-n", self.switch, "link", "show", tap, check=False)
                    return shown.returncode == 0 and f"master {self.segments[segment]}" in shown.stdout
                wait_until(attach, 10, f"tap {tap} on its bridge")
        except Exception:
            sys.stderr.write(self.log("dataplane.log"))
            raise
        return self.dataplane

    def move_twin(self, ifname, role, address):
        """Moves the dataplane's kernel twin `ifname` (created in the root namespace when the
        dataplane starts, gone when it stops) into a new namespace `role`, gives it `address`
        (CIDR) and brings it up. Returns a Host for that namespace."""
        wait_until(lambda: sh("ip", "link", "show", ifname, check=False).returncode == 0, 10, f"twin {ifname}")
        ns = self.netns(role)
        sh("ip", "link", "set", ifname, "netns", ns)
        sh("ip", "-n", ns, "addr", "add", address, "dev", ifname)
        sh("ip", "-n", ns, "link", "set", ifname, "up")
        h = Host(self, role, ns, address.split("/")[0])
        self.hosts[role] = h
        return h

    def stop_dataplane(self, sig=signal.SIGTERM):
        if self.dataplane is None:
            return None
        p = self.dataplane
        if p.poll() is None:
            os.killpg(p.pid, sig)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)
        self.dataplane = None
        shutil.rmtree(f"/var/run/dpdk/{self.eal_prefix}", ignore_errors=True)
        remove_hugepage_files(self.eal_prefix)
        return p.returncode

    def start_control(self, extra=(), netns_leg=None, netns=None, metrics=False):
        """Starts dplb-control (its pid: `self.control.pid`, `ip netns exec` and taskset exec
        it). `extra`: more arguments (e.g. ["--keepalived-conf", path]).

        The health checks run from dplb-control through the kernel's network stack, not
        through the dataplane: `netns_leg=(segment, "A.B.C.D/LEN")` runs it in a "director"
        namespace with a veth on that segment (self.hosts["director"]); `netns=NAME` in an
        existing namespace. Its sockets are files in the lab's directory, so dplbadm and the
        dataplane reach them from any namespace.

        /metrics is off unless `metrics` (then dplb-control serves its default
        127.0.0.1:9469, or what `extra` says): labs of parallel runs share the root namespace's
        ports. scrape() reads it from dplb-control's namespace."""
        self.control_socket = str(self.tmp / "control.sock")
        self.state_file = str(self.tmp / "state" / "config.json")
        argv = [CONTROL, "--socket", self.control_socket, "--dataplane-socket", self.dataplane_socket,
                "--state", self.state_file, *([] if metrics else ["--metrics-listen", "off"]), *extra]
        self.control_netns = None
        if netns_leg is not None:
            if "director" not in self.hosts:
                self.host("director", *netns_leg)
            netns = self.hosts["director"].ns
        if netns is not None:
            argv = ["ip", "netns", "exec", netns, *argv]
            self.control_netns = netns
        self.control = self.spawn(argv, log="control.log", cpu=DRIVER_CPU)
        wait_until(lambda: Path(self.control_socket).exists() or self.control.poll() is not None, 15,
                   "the control socket")
        if self.control.poll() is not None:
            raise RuntimeError(f"dplb-control exited:\n{self.log('control.log')}")
        wait_until(lambda: self.status().get("dataplane") == "connected", 15, "control to reach the dataplane")
        return self.control

    def scrape(self, url="http://127.0.0.1:9469/metrics", timeout=10, headers=()):
        """(HTTP status, headers text, body) of one GET from dplb-control's namespace (curl);
        `headers`: request headers to add ("Accept-Encoding: gzip", ...)."""
        argv = ["curl", "-sS", "-m", timeout, "-D", "-", "-o", self.tmp / "scrape.body", "-w", "%{http_code}",
                *[a for h in headers for a in ("-H", h)], url]
        if self.control_netns is not None:
            argv = ["ip", "netns", "exec", self.control_netns, *argv]
        r = sh("taskset", "-c", DRIVER_CPU, *argv, check=False, timeout=timeout + 5)
        if r.returncode != 0:
            return None, r.stderr, ""
        headers, code = r.stdout[:-3], int(r.stdout[-3:])
        return code, headers, (self.tmp / "scrape.body").read_text()

    def kill_control(self):
        self._kill(self.control)
        self.control = None

    def reload_control(self):
        """SIGHUP to dplb-control (by its pid): re-reads its --keepalived-conf."""
        os.kill(self.control.pid, signal.SIGHUP)

    def adm(self, *args, check=True, input=None):
        """Runs dplbadm against this lab's control socket (`input`: text on its stdin)."""
        r = sh("taskset", "-c", DRIVER_CPU, DPLBADM, "--socket", self.control_socket, *args, check=False,
               input=input)
        if check and r.returncode != 0:
            raise AssertionError(f"dplbadm {' '.join(map(str, args))} failed ({r.returncode}): {r.stderr}")
        return r

    def status(self):
        r = self.adm("--status", "--json", check=False)
        return json.loads(r.stdout) if r.returncode == 0 else {}

    def dataplane_status(self):
        """The dataplane's own counters (docs/api.md `status`)."""
        return self.status().get("dataplane_status", {})

    def drops(self):
        return self.dataplane_status().get("drops", {})

    def dataplane_request(self, request):
        """One request on the dataplane's own socket (docs/api.md "Dataplane socket requests"),
        bypassing dplb-control (which a test may not run)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(self.dataplane_socket)
            s.sendall(json.dumps(request).encode() + b"\n")
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(1 << 20)
                assert chunk, "the dataplane closed the connection"
                buf += chunk
        return json.loads(buf)

    def listing(self):
        return json.loads(self.adm("-L", "-n", "--json").stdout)

    def health(self):
        """`dplbadm --health --json`: every checked real server and its checkers' states."""
        return json.loads(self.adm("--health", "--json").stdout)

    # ----- servers ---------------------------------------------------------------------
    def http_server(self, host, name, port=80, bind=None, status_file=None):
        """An HTTP server in `host` answering GET / with "<name>\\n" and GET /client with the
        peer address it sees. It listens on the host's address, or on `bind` ("0.0.0.0" for
        DR/TUN real servers, which must also answer on the VIP they hold on lo). With
        `status_file`, GET /health answers what the file says (name_server.py)."""
        p = host.spawn(SYSTEM_PYTHON, HERE / "name_server.py", bind or host.address, str(port), name,
                       *([status_file] if status_file else []))
        wait_until(lambda: host.run("ss", "-ltn", f"sport = :{port}", check=False).stdout.count("LISTEN") > 0,
                   10, f"{name}'s HTTP server")
        return p

    # ----- real-server roles --------------------------------------------------------------
    def dr_real_server(self, host, vip):
        """An LVS-DR real server (seed 001 section 8): the VIP as a /32 on lo, so frames the
        director sends to this host's MAC with the VIP as destination are delivered locally and
        answered from the VIP; arp_ignore=1 (answer ARP only for addresses of the interface it
        arrives on) and arp_announce=2 (never use the VIP as an ARP source) keep the segment
        resolving the VIP to the director only."""
        host.sysctl({"net.ipv4.conf.all.arp_ignore": 1, "net.ipv4.conf.all.arp_announce": 2,
                     "net.ipv4.conf.eth0.arp_ignore": 1, "net.ipv4.conf.eth0.arp_announce": 2,
                     "net.ipv4.conf.lo.arp_ignore": 1, "net.ipv4.conf.lo.arp_announce": 2})
        sh("ip", "-n", host.ns, "addr", "add", f"{vip}/32", "dev", "lo")

    def tun_real_server(self, host, vip):
        """An LVS-TUN real server (seed 002) without the ipip module: the XDP program of
        xdp/ipip_decap.c, attached in generic mode to eth0, strips the outer IPv4 header of
        protocol-4 packets (what tunl0 does), and the inner packet reaches the VIP on lo as in
        DR. The decapsulated packet arrives on eth0, not on a tunnel device; rp_filter is off
        (all, eth0, lo) as LVS-TUN guides set it for tunl0, so a client address routed out of
        another interface is not dropped."""
        self.dr_real_server(host, vip)
        host.sysctl({"net.ipv4.conf.all.rp_filter": 0, "net.ipv4.conf.eth0.rp_filter": 0,
                     "net.ipv4.conf.lo.rp_filter": 0})
        sh("ip", "-n", host.ns, "link", "set", "dev", "eth0", "xdpgeneric", "obj", xdp_decap_object(),
           "sec", "xdp")

    def capture(self, host, name, bpf_filter, ifname="eth0"):
        """tcpdump in `host` (a Host, or None for the switch namespace, where e.g. the
        kernel side of a dataplane port is `lab.taps[port][0]`) writing `name`, a pcap in the
        lab's directory, until `terminate`d. Returns (process, path) once tcpdump listens.
        Immediate mode: otherwise packets wait up to a second in the kernel's capture ring
        and a tcpdump terminated right after the traffic loses them."""
        ns = host.ns if host else self.switch
        path = self.tmp / name
        p = self.spawn(["ip", "netns", "exec", ns, "taskset", "-c", DRIVER_CPU, "tcpdump", "--immediate-mode",
                        "-U", "-n", "-i", ifname, "-w", path, bpf_filter], log=f"{name}.log")
        wait_until(lambda: "listening on" in self.log(f"{name}.log") or p.poll() is not None, 10,
                   f"tcpdump for {name}")
        if p.poll() is not None:
            raise RuntimeError(f"tcpdump exited: {self.log(f'{name}.log')}")
        return p, path


def read_pcap(path):
    """Packets of a pcap as dicts, parsed by Debian's scapy in a subprocess (the interpreter
    running pytest may not have scapy): {"hex": frame bytes, "src", "dst", "proto",
    "sport", "dport", "flags", "eth_src", "eth_dst", and "inner_src", "inner_dst" for IPIP}
    (a key is absent when its layer is)."""
    script = """
import json, sys
from scapy.all import rdpcap, Ether, IP, TCP, UDP
out = []
for p in rdpcap(sys.argv[1]):
    d = {"hex": bytes(p).hex()}
    if Ether in p:
        d.update(eth_src=p[Ether].src, eth_dst=p[Ether].dst)
    if IP in p:
        d.update(src=p[IP].src, dst=p[IP].dst, proto=p[IP].proto)
        if p[IP].proto == 4 and IP in p[IP].payload:
            d.update(inner_src=p[IP].payload.src, inner_dst=p[IP].payload.dst)
    for l4 in (TCP, UDP):
        if l4 in p:
            d.update(sport=p[l4].sport, dport=p[l4].dport)
            if l4 is TCP:
                d.update(flags=str(p[TCP].flags))
    out.append(d)
print(json.dumps(out))
"""
    r = sh(SYSTEM_PYTHON, "-c", script, path, timeout=60)
    return json.loads(r.stdout)


class RequestLoop:
    """Sequential HTTP requests from `host` in a background thread, bounded in count and
    time; every failure is recorded with its error. Use as a context manager."""

    def __init__(self, host, url, count=150, max_seconds=60, timeout=5, pause=0.0):
        import threading
        self.host, self.url, self.count, self.max_seconds = host, url, count, max_seconds
        self.timeout, self.pause = timeout, pause  # pause: seconds between two requests
        self.bodies, self.failures = [], []
        # (monotonic start, monotonic end, body or None when it failed), in order.
        self.events = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        deadline = time.monotonic() + self.max_seconds
        for i in range(self.count):
            if self._stop.is_set() or time.monotonic() > deadline:
                break
            start = time.monotonic()
            try:
                body = self.host.curl(self.url, timeout=self.timeout).strip()
                self.bodies.append(body)
                self.events.append((start, time.monotonic(), body))
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
                err = getattr(e, "stderr", "") or str(e)
                self.failures.append(f"request {i}: {err.strip()}")
                self.events.append((start, time.monotonic(), None))
            if self.pause:
                self._stop.wait(self.pause)

    def wait_for(self, n, timeout=30):
        wait_until(lambda: len(self.bodies) + len(self.failures) >= n or not self._thread.is_alive(),
                   timeout, f"{n} requests")

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:  # a failed test: no need for the rest of the requests
            self._stop.set()
        self._thread.join(timeout=self.max_seconds + 30)
        self._stop.set()

    def stop(self):
        """Ends the loop after the request in flight."""
        self._stop.set()
        self._thread.join(timeout=self.timeout + 15)

    @property
    def done(self):
        return len(self.bodies) + len(self.failures)
