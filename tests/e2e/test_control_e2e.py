"""dplb-control and dplbadm end to end: the real binaries, a fake dataplane (fake_dataplane.py),
temporary socket and state paths. Every process and file a test makes is removed, also when
the test fails."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from fake_dataplane import FakeDataplane

BUILD = os.environ.get("DPLB_BUILD_DIR", "")
CONTROL = os.path.join(BUILD, "control", "dplb-control")
DPLBADM = os.path.join(BUILD, "tools", "dplbadm", "dplbadm")

pytestmark = pytest.mark.skipif(not (os.access(CONTROL, os.X_OK) and os.access(DPLBADM, os.X_OK)),
                                reason="DPLB_BUILD_DIR does not hold dplb-control and dplbadm")

VIP = "192.168.227.128:80"
SEED_LIST = (
    "IP Virtual Server version 1.2.1 (size=4096)\n"
    "Prot LocalAddress:Port Scheduler Flags\n"
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
    "TCP  192.168.227.128:80 rr\n"
    "  -> 192.168.253.143:80           Masq    1      0          0         \n"
    "  -> 192.168.253.144:80           Masq    1      0          0         \n")


class Control:
    """One dplb-control process, pinned to CPU 0."""

    def __init__(self, workdir, extra=()):
        self.socket = os.path.join(workdir, "control.sock")
        self.dataplane_socket = os.path.join(workdir, "dataplane.sock")
        self.state = os.path.join(workdir, "state", "config.json")
        self.log = os.path.join(workdir, "control.log")
        self.extra = list(extra)
        self.proc = None

    def start(self, wait=True):
        self._log = open(self.log, "ab")
        self.proc = subprocess.Popen(
            ["taskset", "-c", "0", CONTROL, "--socket", self.socket, "--dataplane-socket",
             self.dataplane_socket, "--state", self.state, "--no-metrics", *self.extra],
            stdout=self._log, stderr=self._log)
        if wait:
            deadline = time.monotonic() + 10
            while not os.path.exists(self.socket):
                assert self.proc.poll() is None, f"dplb-control exited: {self.log_text()}"
                assert time.monotonic() < deadline, "dplb-control did not create its socket"
                time.sleep(0.02)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self._log.close()
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        return rc

    def log_text(self):
        with open(self.log, "r", errors="replace") as f:
            return f.read()

    def adm(self, *args, check=None, input=None):
        r = subprocess.run(["taskset", "-c", "0", DPLBADM, *args], capture_output=True, text=True, input=input,
                           env={**os.environ, "DPLB_CONTROL_SOCKET": self.socket}, timeout=60)
        if check is not None:
            assert r.returncode == check, f"dplbadm {' '.join(args)}: rc={r.returncode} {r.stderr}"
        return r

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(20)
        s.connect(self.socket)
        return s

    def request(self, obj_or_text, sock=None):
        own = sock is None
        s = sock or self.connect()
        try:
            line = obj_or_text if isinstance(obj_or_text, str) else json.dumps(obj_or_text)
            s.sendall(line.encode() + b"\n")
            return json.loads(read_line(s))
        finally:
            if own:
                s.close()


def read_line(s):
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(65536)
        assert chunk, "connection closed before a reply"
        buf += chunk
    return buf.decode()


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="dplb-e2e-")
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def control(workdir):
    c = Control(workdir)
    try:
        yield c.start()
    finally:
        c.stop()


@pytest.fixture
def dataplane(control):
    dp = FakeDataplane(control.dataplane_socket)
    try:
        dp.start()
        dp.wait_for_applies(1)  # connected, and the (empty) configuration pushed first
        yield dp
    finally:
        dp.stop()


def seed_nat_lab(control):
    control.adm("-A", "-t", VIP, "-s", "rr", check=0)
    control.adm("-a", "-t", VIP, "-r", "192.168.253.143:80", "-m", check=0)
    control.adm("-a", "-t", VIP, "-r", "192.168.253.144:80", "-m", check=0)


def test_seed_nat_lab_is_pushed_and_listed_like_ipvsadm(control, dataplane):
    first = dataplane.wait_for_applies(1)[0]
    assert first["config"]["services"] == []  # the (empty) config goes first, on connect
    seed_nat_lab(control)
    applies = dataplane.wait_for_applies(4)
    generations = [a["generation"] for a in applies]
    assert generations == sorted(generations) and len(set(generations)) == 4
    svc = dataplane.config["services"][0]
    assert (svc["protocol"], svc["address"], svc["port"], svc["scheduler"]) == ("tcp", "192.168.227.128", 80, "rr")
    assert [(r["address"], r["port"], r["forward"], r["weight"]) for r in svc["real_servers"]] == [
        ("192.168.253.143", 80, "nat", 1), ("192.168.253.144", 80, "nat", 1)]
    r = control.adm("-Ln", check=0)
    assert r.stdout == SEED_LIST
    assert r.stderr == ""
    # The same in JSON for scripts.
    j = json.loads(control.adm("-L", "--json", check=0).stdout)
    assert j["dataplane"] == "connected" and len(j["services"][0]["real_servers"]) == 2
    # Deleting and clearing reach the dataplane too.
    control.adm("-d", "-t", VIP, "-r", "192.168.253.144:80", check=0)
    dataplane.wait_for(lambda: len(dataplane.config["services"][0]["real_servers"]) == 1)
    control.adm("-C", check=0)
    dataplane.wait_for(lambda: dataplane.config["services"] == [])
    assert control.adm("-Ln", check=0).stdout.count("\n") == 3


def test_invalid_requests_are_refused_and_change_nothing(control, dataplane):
    seed_nat_lab(control)
    before = control.request({"cmd": "get-config"})["config"]
    pushes = len(dataplane.wait_for_applies(4))

    r = control.adm("-A", "-t", "10.0.0.1:80", "-s", "rrr")
    assert r.returncode == 1
    assert r.stderr == ("dplbadm: service.scheduler: unknown scheduler 'rrr' (expected one of: rr, wrr, lc, wlc, "
                        "lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh)\n")
    r = control.adm("-a", "-t", VIP, "-r", "192.168.253.145:8080")  # ipvsadm's default -g keeps the port
    assert r.returncode == 1
    assert r.stderr == ("dplbadm: real_server.port: dr cannot change the port: the real server must use the "
                        "service's port 80, not 8080\n")
    r = control.adm("-A", "-t", "10.0.0.300:80", "-s", "rr")
    assert r.returncode == 2 and "'10.0.0.300' is not a dotted-quad IPv4 address" in r.stderr
    r = control.adm("-A", "-t", "10.0.0.1:0", "-s", "rr")
    assert r.returncode == 1
    assert r.stderr == "dplbadm: service.port: port 0 (all ports) is only allowed for persistent services\n"
    r = control.adm("-A", "-t", VIP, "-s", "rr")
    assert r.returncode == 1 and "already exists" in r.stderr
    r = control.adm("-a", "-t", "10.9.9.9:443", "-r", "192.168.253.145", "-m")
    assert r.returncode == 1 and r.stderr == "dplbadm: service: no service tcp 10.9.9.9:443\n"

    # Raw requests on one connection: each error is answered and the connection stays usable.
    s = control.connect()
    try:
        rep = control.request('{"cmd":"add-service","service":{"protocol":"tcp"', s)
        assert rep["ok"] is False and rep["error"].startswith("not valid JSON")
        rep = control.request({"cmd": "add-service", "service": {"protocol": "tcp", "address": "10.0.0.1",
                                                                 "port": 80, "scheduler": "rr", "persist": 1}}, s)
        assert rep == {"ok": False, "field": "service.persist", "error": "service.persist: unknown member 'persist'"}
        rep = control.request({"cmd": "add-service", "id": 9, "service": {"protocol": "tcp", "address": "10.0.0.1",
                                                                          "port": "80", "scheduler": "rr"}}, s)
        assert rep["field"] == "service.port" and rep["id"] == 9
        rep = control.request({"cmd": "replace-config", "config": {"services": [
            {"protocol": "udp", "address": "10.0.0.53", "port": 53, "scheduler": "rr"},
            {"protocol": "udp", "address": "10.0.0.53", "port": 53, "scheduler": "rr"}]}}, s)
        assert rep["field"] == "config.services[1]" and "duplicate service udp 10.0.0.53:53" in rep["error"]
        assert control.request({"cmd": "get-config"}, s)["config"] == before
    finally:
        s.close()
    assert len(dataplane.applies()) == pushes  # nothing refused was pushed


def test_oversized_request_is_answered_then_the_connection_closed(workdir):
    c = Control(workdir, ["--max-request-bytes", "4096"]).start()
    try:
        s = c.connect()
        try:
            s.sendall(b'{"cmd":"list","pad":"' + b"x" * 10000 + b'"}\n')
            rep = json.loads(read_line(s))
            assert rep["ok"] is False
            assert "request longer than 4096 bytes" in rep["error"]
            try:
                rest = s.recv(100)
            except ConnectionResetError:
                rest = b""
            assert rest == b""
        finally:
            s.close()
        # The server is fine and a normal request still works.
        assert c.request({"cmd": "list"})["ok"] is True
    finally:
        c.stop()


def test_dataplane_rejection_rolls_the_change_back(control, dataplane):
    seed_nat_lab(control)
    dataplane.wait_for_applies(4)
    journal = control.state + ".journal"
    with open(journal, "rb") as f:
        journal_before = f.read()
    config_before = control.request({"cmd": "get-config"})["config"]

    dataplane.reject = "local address 192.168.100.200 is not on any port"
    r = control.adm("--add-laddr", "-z", "192.168.100.200", "-t", VIP)
    assert r.returncode == 1
    assert r.stderr == ("dplbadm: dataplane rejected the change: changes[0]: "
                        "local address 192.168.100.200 is not on any port\n")
    assert control.request({"cmd": "get-config"})["config"] == config_before
    with open(journal, "rb") as f:
        assert f.read() == journal_before  # nothing journaled
    assert os.listdir(os.path.dirname(control.state)) == ["config.json.journal"]  # no temporary file

    dataplane.reject = None
    control.adm("--add-laddr", "-z", "192.168.100.200", "-t", VIP, check=0)
    r = control.adm("--get-laddr", check=0)
    assert r.stdout == ("VIP:VPORT            TOTAL    SNAT_IP\n"
                        "192.168.227.128:80   1        \n"
                        "                              192.168.100.200\n")


def test_dataplane_restart_gets_the_full_configuration_again(control, dataplane):
    seed_nat_lab(control)
    dataplane.wait_for_applies(4)
    dataplane.stop()

    # Changes while it is away are accepted, saved, and flagged.
    r = control.adm("-e", "-t", VIP, "-r", "192.168.253.144:80", "-w", "5")
    assert r.returncode == 0
    assert "dataplane not connected" in r.stderr
    assert json.loads(control.adm("--status", "--json", check=0).stdout)["dataplane"] == "disconnected"
    assert "dataplane: disconnected" in control.adm("--status", check=0).stdout

    dataplane.requests.clear()
    dataplane.start()
    applies = dataplane.wait_for_applies(1)
    assert dataplane.requests[0]["cmd"] == "apply"  # before anything else
    reals = applies[0]["config"]["services"][0]["real_servers"]
    assert [(r["address"], r["weight"]) for r in reals] == [("192.168.253.143", 1), ("192.168.253.144", 5)]
    assert dataplane.wait_for(lambda: control.request({"cmd": "status"})["dataplane"] == "connected")


def test_dataplane_hanging_up_mid_push_does_not_kill_control(control, dataplane):
    dataplane.wait_for_applies(1)
    dataplane.hang_up_on_apply = True
    r = control.adm("-A", "-t", VIP, "-s", "rr")
    assert r.returncode == 0 and "dataplane not connected" in r.stderr
    assert control.proc.poll() is None
    dataplane.hang_up_on_apply = False
    # It reconnects and pushes the accepted change.
    assert dataplane.wait_for(lambda: dataplane.config is not None and len(dataplane.config["services"]) == 1)


def test_restart_restores_the_state_file(workdir):
    dp = FakeDataplane(os.path.join(workdir, "dataplane.sock")).start()
    c = Control(workdir).start()
    try:
        seed_nat_lab(c)
        c.request({"cmd": "set-timeouts", "timeouts": {"udp": 60}})
        assert c.stop() == 0
        assert not os.path.exists(c.socket)  # removed on SIGTERM

        dp.requests.clear()
        c.start()
        assert c.adm("-Ln", check=0).stdout == SEED_LIST
        assert c.adm("-L", "--timeout", check=0).stdout == "Timeout (tcp tcpfin udp): 900 120 60\n"
        applies = dp.wait_for_applies(1)
        assert len(applies[0]["config"]["services"][0]["real_servers"]) == 2
        assert "loaded 1 services" in c.log_text()
    finally:
        c.stop()
        dp.stop()


def test_torn_journal_record_is_dropped_and_the_rest_kept(workdir):
    """A power cut in the middle of an append leaves part of a record that was never
    acknowledged: the restart drops it (and says so) and keeps everything before it."""
    dp = FakeDataplane(os.path.join(workdir, "dataplane.sock")).start()
    c = Control(workdir).start()
    try:
        seed_nat_lab(c)
        assert c.stop() == 0
        journal = c.state + ".journal"
        with open(journal, "ab") as f:
            f.write(b"\x40\x00\x00\x00\x12\x34")  # a record header cut short
        c.start()
        assert c.adm("-Ln", check=0).stdout == SEED_LIST
        assert "torn" in c.log_text() or "ignored" in c.log_text(), c.log_text()
        c.adm("-e", "-t", VIP, "-r", "192.168.253.143:80", "-m", "-w", "4", check=0)
        assert c.stop() == 0
        c.start()  # what followed the cut is readable
        assert "192.168.253.143:80" in c.adm("-Ln", check=0).stdout
        assert " 4 " in [l for l in c.adm("-Ln", check=0).stdout.splitlines() if "253.143" in l][0]
    finally:
        c.stop()
        dp.stop()


def test_corrupt_state_file_refuses_to_start_and_is_kept(workdir):
    c = Control(workdir)
    os.makedirs(os.path.dirname(c.state))
    with open(c.state, "w") as f:
        f.write('{"services":[{"protocol":"tcp"')
    c.start(wait=False)
    try:
        rc = c.proc.wait(timeout=10)
    finally:
        c.stop()
    assert rc == 1
    log = c.log_text()
    assert f"state file {c.state}: not valid JSON" in log
    with open(c.state) as f:
        assert f.read() == '{"services":[{"protocol":"tcp"'
    assert not os.path.exists(c.socket)


def test_stats_and_zero(control, dataplane):
    seed_nat_lab(control)
    dataplane.wait_for_applies(4)
    key = ("tcp", "192.168.227.128", 80)
    dataplane.counters[key] = {"conns": 12, "inpkts": 240, "outpkts": 236, "inbytes": 17004,
                               "outbytes": 123456789, "active_conns": 2}
    out = control.adm("-L", "-n", "--stats", check=0).stdout.splitlines()
    assert out[1] == "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes"
    assert out[3] == "TCP  192.168.227.128:80                 12      240      236    17004  123456K"
    exact = control.adm("-L", "--stats", "--exact", "-t", VIP, check=0).stdout.splitlines()
    assert exact[2] == "TCP  192.168.227.128:80                 12      240      236    17004 123456789"
    assert "Masq    1      2          0" in control.adm("-Ln", check=0).stdout

    control.adm("-Z", check=0)
    dataplane.counters[key] = {"conns": 15, "inpkts": 250, "outpkts": 240, "inbytes": 18004,
                               "outbytes": 123456789, "active_conns": 2}
    out = control.adm("-Ln", "--stats", check=0).stdout.splitlines()
    assert out[3] == "TCP  192.168.227.128:80                  3       10        4     1000        0"
    # The dataplane restarted: its counters are below the baselines, which are dropped.
    dataplane.counters[key] = {"conns": 1, "inpkts": 2, "outpkts": 2, "inbytes": 100, "outbytes": 100}
    out = control.adm("-Ln", "--stats", check=0).stdout.splitlines()
    assert out[3] == "TCP  192.168.227.128:80                  1        2        2      100      100"


def test_status_reports_dataplane_counters_and_drops(control, dataplane):
    dataplane.wait_for_applies(1)
    dataplane.drops = {"no_service": 7, "bad_checksum": 0, "ttl_exceeded": 2}
    out = control.adm("--status", check=0).stdout
    assert out.startswith("dataplane: connected\ngeneration: 1\n")
    assert "  drop no_service 7\n" in out and "  drop ttl_exceeded 2\n" in out
    assert "bad_checksum" not in out
    assert "worker 0: lcore=1 rx_packets=10 tx_packets=9\n" in out


def test_a_half_sent_request_does_not_block_other_clients(control, dataplane):
    slow = control.connect()
    try:
        slow.sendall(b'{"cmd":"add-service","service":{"protocol":"tcp",')
        t0 = time.monotonic()
        for i in range(20):
            control.adm("-A", "-t", f"10.0.1.{i + 1}:80", "-s", "rr", check=0)
        assert time.monotonic() - t0 < 30
        slow.sendall(b'"address":"10.0.2.1","port":80,"scheduler":"rr"}}\n')
        assert json.loads(read_line(slow))["ok"] is True
    finally:
        slow.close()
    assert len(control.request({"cmd": "list"})["services"]) == 21


def test_help_lists_every_command():
    r = subprocess.run([DPLBADM, "--help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0
    for opt in ("--add-service", "--add-server", "--list", "--zero", "--add-laddr", "--get-laddr", "--status",
                "--json", "--socket"):
        assert opt in r.stdout
    r = subprocess.run([DPLBADM, "--bogus"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and r.stderr.startswith("dplbadm: unknown option '--bogus'")
    r = subprocess.run([CONTROL, "--help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and "--max-request-bytes" in r.stdout


# Issue 3's command set lives in its own file; importing its tests here lets the e2e-control
# run (which names this file) collect them with this file's fixtures.
from test_control_ipvsadm import *  # noqa: E402,F401,F403
