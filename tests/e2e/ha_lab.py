"""Two dplb directors on one bridge with keepalived VRRP: issue 12's HA labs (test_ha_lab.py).

One segment, 192.168.213.0/24, the network of seed 004's keepalived + LVS-DR lab:

    client   192.168.213.50    DR client: the real servers answer it directly
    nclient  192.168.213.60    NAT and FULLNAT client: the real servers route it through
                               VIP_NAT, their floating gateway (a host route, as LVS-NAT needs)
    RS1, RS2 .102, .103        web server (name_server.py) on 0.0.0.0:80, UDP echo on :9000;
                               VIP on lo with arp_ignore/arp_announce (LVS-DR, seed 004)
    director A .100, B .101    each a dplb dataplane (one port on the segment, with a kernel
                               twin) and, in the director's namespace dir<A|B> where the twin
                               lives, its dplb-control and its keepalived (VRRP only).

keepalived runs configs/keepalived/ha-master.conf (A) and ha-backup.conf (B), with `dplb0`
renamed to the lab's twin; dplb-control loads the same file (--keepalived-conf: its
virtual_server blocks are the services and health checks). FULLNAT is added with dplbadm
on both (upstream keepalived has no FNAT). Each director is a Lab (lab.py) sharing this lab's
namespaces and processes, with its own EAL prefix, MACs, sockets and files."""

import os
import re
import signal
import time
from pathlib import Path

from exposition import parse
from lab import DRIVER_CPU, HERE, SYSTEM_PYTHON, Host, Lab, sh, wait_until

SAMPLES = HERE.parents[1] / "configs" / "keepalived"
LAN = "l"
VIP = "192.168.213.200"       # the seed's DR service, port 80
VIP_NAT = "192.168.213.201"   # NAT :80, FULLNAT :8081, UDP NAT :9000
LIP = "192.168.213.250"       # FULLNAT local address (owned with VIP_NAT: not keepalived's)
FULLNAT_PORT = 8081
UDP_PORT = 9000
CLIENT = "192.168.213.50"
NAT_CLIENT = "192.168.213.60"
RS = {"RS1": "192.168.213.102", "RS2": "192.168.213.103"}
DIRECTORS = {"A": ("192.168.213.100", "ha-master.conf"), "B": ("192.168.213.101", "ha-backup.conf")}
SYNC_ID = 51

ARP_WHO_HAS = """
import sys
from scapy.all import ARP, Ether, conf, srp
conf.verb = 0
ans, _ = srp(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(pdst=sys.argv[2]), iface=sys.argv[1], timeout=1, multi=True)
print(" ".join(sorted({r[ARP].hwsrc for _, r in ans})))
"""


class Director(Lab):
    """One dplb node: dataplane (CPU 1), its twin in namespace dir<name>, dplb-control and
    keepalived there (CPU 0). keepalived is started with its own pid files and stopped by the
    pids in them."""

    def __init__(self, ha, node, name, address, sample):
        super().__init__(parent=ha, node=node)
        self.name, self.address, self.sample = name, address, SAMPLES / sample
        self.twin = f"k{self.short}0"
        self.mac = f"02:dd:00:{node:02x}:00:01"  # the port's (lab.start_dataplane), the twin's too
        self.ns = self.netns(f"dir{name}")
        self.shell = Host(self, f"dir{name}", self.ns, address)  # commands in the director's namespace
        self.conf = self.tmp / "keepalived.conf"
        self.pid_files = {k: self.tmp / f"keepalived{k}.pid" for k in ("", "-vrrp", "-checkers")}
        self.keepalived = None

    # ----- configuration -------------------------------------------------------------------
    def write_keepalived_conf(self, nopreempt=False):
        """The sample with the twin's name; nopreempt: keepalived.conf(5)'s rule, the initial
        state must be BACKUP for `nopreempt` to apply."""
        text = re.sub(r"\bdplb0\b", self.twin, self.sample.read_text())
        if nopreempt:
            text = text.replace("state MASTER", "state BACKUP")
            text, n = re.subn(r"\n(\s*)(priority \d+)\n", r"\n\1\2\n\1nopreempt\n", text)
            assert n == 1, "the sample's vrrp_instance has no priority line"
        self.conf.write_text(text)

    def start(self, workers, vip_ownership, extra, metrics=False):
        cfg = dict(extra)
        if vip_ownership is not None:
            cfg["vip_ownership"] = vip_ownership
        self.start_dataplane([("lan", LAN, f"{self.address}/24")], workers=workers,
                             twins={"lan": {"name": self.twin, "netns": self.ns}}, extra=cfg)
        self.place_twin()
        self.no_flooding()
        # metrics: /metrics on its default 127.0.0.1:9469, in the director's own namespace, for
        # the HA families (dplb_vip_owned, dplb_sync_*) on live pages (test_ha_lab.py).
        self.start_control(netns=self.ns, extra=["--keepalived-conf", self.conf], metrics=metrics)
        # FULLNAT is not keepalived's (see configs/keepalived/ha-master.conf): dplbadm, the same
        # lines on both directors.
        service = ("-t", f"{VIP_NAT}:{FULLNAT_PORT}")
        self.adm("-A", *service, "-s", "rr")
        self.adm("--add-laddr", "-z", LIP, *service)
        for addr in RS.values():
            self.adm("-a", *service, "-r", f"{addr}:80", "-b")

    def place_twin(self):
        """The twin in the director's namespace with the port's address, up. A dataplane that
        implements kernel_twin.netns has put it there itself; otherwise it is in the root
        namespace and is moved here."""
        def inside():
            return sh("ip", "-n", self.ns, "link", "show", self.twin, check=False).returncode == 0

        def outside():
            return sh("ip", "link", "show", self.twin, check=False).returncode == 0
        wait_until(lambda: inside() or outside(), 10, f"twin {self.twin}")
        if not inside():
            sh("ip", "link", "set", self.twin, "netns", self.ns)
        sh("ip", "-n", self.ns, "addr", "replace", f"{self.address}/24", "dev", self.twin)
        sh("ip", "-n", self.ns, "link", "set", self.twin, "up")

    def no_flooding(self):
        """The bridge stops flooding unknown unicast to this director's port, so the port
        receives unicast for its own MAC only, as a NIC that filters by MAC does. Without it,
        once a killed director's tap is gone the bridge floods frames for that MAC to the
        other director, whose dataplane (net_tap receives every frame, and dplb does not check
        the destination MAC) forwards those of the sessions it has: the failover would look
        instantaneous for synchronised connections, which a switched network does not give."""
        for tap, _ in self.taps.values():
            sh("ip", "netns", "exec", self.switch, "bridge", "link", "set", "dev", tap, "flood", "off")

    def kill_dataplane(self):
        """kill -9 of the dataplane (its twin disappears with it)."""
        self.stop_dataplane(signal.SIGKILL)

    def restart(self):
        """A dataplane after a kill: start it again, put the twin back. dplb-control reconnects
        and pushes its table by itself."""
        self.restart_dataplane()
        self.place_twin()
        self.no_flooding()
        wait_until(lambda: self.status().get("dataplane") == "connected", 20, f"{self.name}'s control to reconnect")

    # ----- keepalived --------------------------------------------------------------------------
    def start_keepalived(self):
        for f in self.pid_files.values():
            f.unlink(missing_ok=True)
        p = self.pid_files
        self.keepalived = self.spawn(
            ["ip", "netns", "exec", self.ns, "keepalived", "--vrrp", "--dont-fork", "--log-console", "--log-detail",
             "--use-file", self.conf, "--pid", p[""], "--vrrp_pid", p["-vrrp"], "--checkers_pid", p["-checkers"]],
            log="keepalived.log", cpu=DRIVER_CPU)
        wait_until(lambda: p["-vrrp"].exists() or self.keepalived.poll() is not None, 10, "keepalived's VRRP process")
        if self.keepalived.poll() is not None:
            raise RuntimeError(f"keepalived exited {self.keepalived.returncode}:\n{self.log('keepalived.log')}")

    def keepalived_pids(self):
        """(parent, VRRP child) from their pid files."""
        return tuple(int(self.pid_files[k].read_text().split()[0]) for k in ("", "-vrrp"))

    def kill_keepalived(self):
        """kill -9 of keepalived, VRRP child first (so the parent cannot respawn it) then the
        parent: nothing runs keepalived's shutdown (no priority-0 advert, VIPs left in place)."""
        parent, vrrp = self.keepalived_pids()
        for pid in (vrrp, parent):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.keepalived.wait(timeout=10)
        wait_until(lambda: not Path(f"/proc/{vrrp}").exists() or _zombie(vrrp), 10, "keepalived's VRRP process to die")
        self.processes.remove(self.keepalived)
        self.keepalived = None

    def stop_keepalived(self):
        """SIGTERM to keepalived's parent (by its pid): a clean stop (priority-0 advert, VIPs
        removed); SIGKILL to both if it takes more than 10 s."""
        parent, _ = self.keepalived_pids()
        os.kill(parent, signal.SIGTERM)
        try:
            self.keepalived.wait(timeout=10)
        except Exception:
            self.kill_keepalived()
            return
        self.processes.remove(self.keepalived)
        self.keepalived = None

    def transitions(self):
        """keepalived's VRRP state changes so far, in order ("BACKUP", "MASTER", "FAULT")."""
        return re.findall(r"\(VI_1\) Entering (\w+) STATE", self.log("keepalived.log"))

    def vrrp_state(self):
        t = self.transitions()
        return t[-1] if t else None

    def holds(self, address=VIP):
        """Whether `address` is on the twin (keepalived's virtual_ipaddress)."""
        out = sh("ip", "-n", self.ns, "-br", "addr", "show", "dev", self.twin, check=False).stdout
        return f" {address}/32" in f" {out} "

    def workers_sum(self, name):
        return sum(w.get(name, 0) for w in self.dataplane_status().get("workers", []))

    def metrics(self):
        """The samples of one scrape of this director's dplb-control (exposition.parse)."""
        code, headers, body = self.scrape()
        assert code == 200, f"{self.name}: {code} {headers}\ncontrol.log:\n{self.log('control.log')[-3000:]}"
        return parse(body)

    def connections(self):
        """`dplbadm -L -n -c`: the connection table of this director's dataplane, as text."""
        return self.adm("-L", "-n", "-c").stdout


def _zombie(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except (OSError, IndexError):
        return True


class HaLab(Lab):
    """The whole lab: hosts, real servers, directors A (MASTER, priority 100) and B (BACKUP,
    90), keepalived on both. `__enter__` builds it and waits for A to be master with the VIPs
    (self.election_s: seconds from starting keepalived)."""

    def __init__(self, nopreempt=False, vip_ownership="kernel", workers=1, dataplane_extra=None, metrics=False):
        super().__init__()
        self.nopreempt, self.vip_ownership, self.workers = nopreempt, vip_ownership, workers
        self.metrics = metrics  # dplb-control's /metrics on (Director.metrics() scrapes it)
        self.dataplane_extra = dataplane_extra or {}
        self.directors = {}

    def __enter__(self):
        super().__enter__()
        self.segment(LAN)
        self.client = self.host("client", LAN, f"{CLIENT}/24")
        self.nclient = self.host("nclient", LAN, f"{NAT_CLIENT}/24")
        for name, addr in RS.items():
            h = self.host(name.lower(), LAN, f"{addr}/24")
            self.dr_real_server(h, VIP)
            h.run("ip", "route", "add", f"{NAT_CLIENT}/32", "via", VIP_NAT)  # LVS-NAT: replies through us
            self.http_server(h, name, bind="0.0.0.0")
            h.spawn(SYSTEM_PYTHON, HERE / "udp_echo.py", "serve", addr, name, str(UDP_PORT))
            wait_until(lambda: f":{UDP_PORT}" in h.run("ss", "-lun", check=False).stdout, 10, f"{name}'s UDP echo")
        for node, (name, (addr, sample)) in enumerate(DIRECTORS.items(), start=1):
            d = Director(self, node, name, addr, sample)
            d.write_keepalived_conf(self.nopreempt)
            d.start(self.workers, self.vip_ownership, self.dataplane_extra, self.metrics)
            self.directors[name] = d
        self.a, self.b = self.directors["A"], self.directors["B"]
        started = time.monotonic()
        for d in self.directors.values():
            d.start_keepalived()
        wait_until(lambda: self.a.holds(VIP) and self.a.holds(VIP_NAT) and self.b.vrrp_state() == "BACKUP", 20,
                   "A to be VRRP master with the VIPs, B backup")
        self.election_s = time.monotonic() - started
        return self

    def arp_responders(self, host, address):
        """The MACs answering an ARP request for `address` sent from `host` (1 s)."""
        return set(host.run(SYSTEM_PYTHON, "-c", ARP_WHO_HAS, "eth0", address).stdout.split())

    def neighbour_mac(self, host, address):
        out = host.run("ip", "neigh", "show", address).stdout.split()
        return out[out.index("lladdr") + 1] if "lladdr" in out else None

    def takeover(self, director, since, timeout=20, address=VIP):
        """Seconds from `since` (monotonic) until `director` holds `address` on its twin."""
        wait_until(lambda: director.holds(address), timeout, f"{director.name} to hold {address}", interval=0.02)
        return time.monotonic() - since

    def first_success(self, host, url, since, timeout=20):
        """Seconds from `since` until a request to `url` from `host` succeeds (one attempt
        every 100 ms, each with a 1 s limit)."""
        def ok():
            return host.run("curl", "-sS", "--fail", "-m", "1", url, check=False, timeout=5).returncode == 0
        wait_until(ok, timeout, f"a successful request to {url}", interval=0.1)
        return time.monotonic() - since
