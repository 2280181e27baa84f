"""The Debian package: tools/package builds it (debhelper + meson, lintian must pass), it is
unpacked into a fresh directory root (dpkg -x) and checked: the file list against the list
below, the conffiles, the binaries' --help, `systemd-analyze verify` on the units, and the
units run without systemd (PID 1 here is not systemd): their ExecStartPre/ExecStart/
ExecStartPost/ExecReload lines, read from the installed files and given the test's paths
through the test's own /etc/default/dplb, with NOTIFY_SOCKET on a datagram socket the test
owns: READY=1 must arrive from dplb-dataplane and dplb-control only once their sockets serve,
and SIGTERM must bring STOPPING=1 and exit 0.

The package build is the slow part (a whole build without the tests: see docs/testing.md for
the time). DPLB_DEB=/path/to/dplb_*.deb skips it and checks that package instead.
Everything is removed at the end, also on failure: processes (by pid), the unpacked root,
the EAL runtime directory, the hugetlbfs mounted by the hugepages unit.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import unit_file
from lab import BUILD_DIR, DATAPLANE_CPU, NS_PREFIX, Lab, sh, sweep_stale, wait_until

SOURCE_DIR = Path(__file__).resolve().parents[2]
UNIT_DIR = "lib/systemd/system"

# Every file the package installs outside /usr/share/doc/dplb (checked below on its own).
EXPECTED_FILES = {
    "etc/default/dplb",
    "etc/dplb/dataplane.json",
    "lib/systemd/system/dplb-control.service",
    "lib/systemd/system/dplb-dataplane.service",
    "lib/systemd/system/dplb-hugepages.service",
    "usr/sbin/dplb-control",
    "usr/sbin/dplb-dataplane",
    "usr/sbin/dplbadm",
    "usr/share/man/man8/dplb-control.8.gz",
    "usr/share/man/man8/dplb-dataplane.8.gz",
    "usr/share/man/man8/dplbadm.8.gz",
}
# /usr/share/doc/dplb: names without a ".gz" dh_compress may add.
EXPECTED_DOCS = {
    "changelog", "copyright", "README.md", "api.md", "architecture.md", "configuration.md", "ha.md",
    "health.md", "keepalived.md", "operations.md", "packaging.md",
    "examples/dataplane-tap.json", "examples/dataplane-trex.json", "examples/services-fullnat.json",
    "examples/ha-master.conf", "examples/ha-backup.conf", "examples/dplb.json",
    "images/prometheus-lab.png",
}
EXPECTED_CONFFILES = {"/etc/default/dplb", "/etc/dplb/dataplane.json"}


@pytest.fixture(scope="module")
def deb():
    given = os.environ.get("DPLB_DEB")
    if given:
        return Path(given)
    out = BUILD_DIR / "package"
    start = time.monotonic()
    # The build is a compile, with no dataplane running yet (this is the module's first
    # fixture): it may use every core, not only the tests' one (conftest.py pins the tests),
    # which halves this suite's time on a 2-core CI machine (tools/package: parallel=$(nproc)).
    r = subprocess.run([str(SOURCE_DIR / "tools" / "package"), str(out)], capture_output=True, text=True,
                       timeout=1500, preexec_fn=lambda: os.sched_setaffinity(0, range(os.cpu_count())))
    print(f"PACKAGE-MEASURE tools/package (build + lintian): {time.monotonic() - start:.0f} s")
    print(r.stdout)
    assert r.returncode == 0, f"tools/package failed:\n{r.stdout}\n{r.stderr}"
    debs = sorted(out.glob("dplb_*.deb"))
    assert len(debs) == 1, f"expected one .deb in {out}: {debs}"
    return debs[0]


@pytest.fixture(scope="module")
def root(deb):
    sweep_stale()
    d = Path(tempfile.mkdtemp(prefix=f"{NS_PREFIX}{os.getpid()}x-root-"))
    try:
        sh("dpkg", "-x", deb, d, timeout=120)
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def files_under(root):
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def test_file_list(deb, root):
    files = files_under(root)
    docs = {f for f in files if f.startswith("usr/share/doc/dplb/")}
    assert files - docs == EXPECTED_FILES
    assert {f.removeprefix("usr/share/doc/dplb/").removesuffix(".gz") for f in docs} == EXPECTED_DOCS
    for f in ("usr/sbin/dplb-control", "usr/sbin/dplb-dataplane", "usr/sbin/dplbadm"):
        assert os.access(root / f, os.X_OK), f
    control = Path(tempfile.mkdtemp(prefix=f"{NS_PREFIX}{os.getpid()}x-ctl-"))
    try:
        sh("dpkg-deb", "-e", deb, control)
        assert set((control / "conffiles").read_text().split()) == EXPECTED_CONFFILES
    finally:
        shutil.rmtree(control, ignore_errors=True)
    depends = sh("dpkg-deb", "-f", deb, "Depends").stdout
    for needed in ("libsystemd0", "librte-eal23", "dpdk", "librte-mempool-ring23", "libcpp-httplib0.11"):
        assert needed in depends, f"Depends lacks {needed}: {depends}"


@pytest.mark.parametrize("program", ["dplb-dataplane", "dplb-control", "dplbadm"])
def test_installed_binaries_run(root, program):
    r = sh(root / "usr/sbin" / program, "--help")
    assert "sage" in r.stdout.splitlines()[0], r.stdout  # "usage:" / "Usage:"
    assert "--" in r.stdout


def test_systemd_analyze_verify(root):
    """The units as systemd reads them: unknown keys, bad values, executables that do not
    exist, dependencies that do not resolve, and Documentation= man pages that `man` cannot
    find (MANPATH: the package's pages). Verified from a copy whose /usr/sbin paths point into
    the unpacked root; the other executables (/bin/kill, dpdk-hugepages.py) and the targets are
    the host's (`--root=` would look for those in the unpacked root too). systemd-analyze
    exits 0 on warnings such as an unknown key: any line naming a dplb unit fails."""
    units = Path(tempfile.mkdtemp(prefix=f"{NS_PREFIX}{os.getpid()}x-units-"))
    try:
        for name in ("dplb-hugepages.service", "dplb-dataplane.service", "dplb-control.service"):
            text = (root / UNIT_DIR / name).read_text()
            (units / name).write_text(text.replace("/usr/sbin/", f"{root}/usr/sbin/"))
        r = subprocess.run(["systemd-analyze", "verify", *sorted(str(p) for p in units.iterdir())],
                           capture_output=True, text=True, timeout=60,
                           env={"PATH": os.environ["PATH"], "MANPATH": str(root / "usr/share/man")})
        problems = [line for line in (r.stdout + r.stderr).splitlines() if "dplb" in line]
        assert r.returncode == 0 and not problems, r.stdout + r.stderr
    finally:
        shutil.rmtree(units, ignore_errors=True)


class NotifyListener:
    """A datagram socket standing in for systemd's notification socket."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []

    def wait_for(self, key, timeout, process):
        """The first message with `key` ("READY=1"), while `process` runs (or just exited)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in self.messages:
                if key in m.splitlines():
                    return m
            self.sock.settimeout(0.2)
            try:
                self.messages.append(self.sock.recv(4096).decode())
                continue
            except socket.timeout:
                pass
            if process.poll() is not None and not self._pending():
                break
        raise AssertionError(f"no {key} on {self.path} within {timeout}s (exit {process.poll()}); "
                             f"received {self.messages}")

    def _pending(self):
        self.sock.setblocking(False)
        try:
            self.messages.append(self.sock.recv(4096).decode())
            return True
        except BlockingIOError:
            return False

    def close(self):
        self.sock.close()


def unit(root, name):
    return unit_file.read_unit(root / UNIT_DIR / name)


def run_exec(lines, env, root):
    """Runs Exec lines in order as systemd would for a oneshot; /usr/sbin points into root."""
    for line in lines:
        argv, ignore = unit_file.expand_command(line, env)
        argv[0] = map_binary(argv[0], root)
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
        assert r.returncode == 0 or ignore, f"{argv} exited {r.returncode}: {r.stdout}{r.stderr}"


def map_binary(path, root):
    return str(root / path.lstrip("/")) if path.startswith("/usr/sbin/") else path


def test_hugepages_unit(root):
    """dplb-hugepages.service keeps the machine's reservation (asked for exactly what each
    NUMA node has) and mounts a hugetlbfs on the test's directory."""
    u = unit(root, "dplb-hugepages.service")
    assert unit_file.value(u, "Service", "Type") == "oneshot"
    assert unit_file.value(u, "Service", "RemainAfterExit") == "yes"
    nodes = sorted(Path("/sys/devices/system/node").glob("node*/hugepages/hugepages-2048kB/nr_hugepages"))
    counts = {int(n.read_text()) for n in nodes}
    if len(counts) != 1:
        pytest.skip(f"2 MiB hugepages differ between NUMA nodes ({counts}): the unit would change them")
    per_node = counts.pop()
    before = [n.read_text() for n in nodes]
    tmp = Path(tempfile.mkdtemp(prefix=f"{NS_PREFIX}{os.getpid()}x-huge-"))
    mount = tmp / "hugetlbfs"
    env_file = tmp / "default-dplb"
    env_file.write_text(f"DPLB_HUGEPAGE_SIZE=2M\nDPLB_HUGEPAGES={per_node * 2}M\nDPLB_HUGEPAGE_MOUNT={mount}\n")
    try:
        env = unit_file.service_environment(u, {"/etc/default/dplb": str(env_file)})
        run_exec(unit_file.values(u, "Service", "ExecStartPre") + unit_file.values(u, "Service", "ExecStart") +
                 unit_file.values(u, "Service", "ExecStartPost"), env, root)
        mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
        mine = [m for m in mounts if m[1] == str(mount)]
        assert mine and mine[0][2] == "hugetlbfs" and "pagesize=2M" in mine[0][3], mine
        assert [n.read_text() for n in nodes] == before
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True, timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


def start_unit(lab, root, name, env_file, listener):
    u = unit(root, name)
    assert unit_file.value(u, "Service", "Type") == "notify"
    env = unit_file.service_environment(u, {"/etc/default/dplb": str(env_file)})
    (line,) = unit_file.values(u, "Service", "ExecStart")
    argv, _ = unit_file.expand_command(line, env)
    argv[0] = map_binary(argv[0], root)
    run_env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "NOTIFY_SOCKET": listener.path}
    out = open(lab.tmp / f"{name}.log", "ab")
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True, env=run_env)
    lab.processes.append(p)
    return u, env, p


def stop_unit(lab, name, p, listener, timeout):
    """SIGTERM to the main process, as systemd does on stop: STOPPING=1, then exit 0."""
    p.send_signal(signal.SIGTERM)
    listener.wait_for("STOPPING=1", timeout, p)
    assert p.wait(timeout=timeout) == 0, lab.log(f"{name}.log")


def test_units_start_ready_and_stop(root):
    """dplb-dataplane.service, then dplb-control.service (its After=), each started from its
    installed ExecStart line: READY=1 arrives, and when it does the process serves (the
    dataplane's ports exist and its socket answers; dplbadm gets an answer from dplb-control).
    ExecReload reaches dplb-control. Then stopped in the reverse order."""
    lab = Lab()
    listeners = []
    try:
        tap = f"t{lab.short}0"
        dp_socket = lab.tmp / "run" / "dataplane.sock"
        ctl_socket = lab.tmp / "run" / "control.sock"
        (lab.tmp / "run").mkdir()  # what RuntimeDirectory=dplb makes
        config = lab.tmp / "dataplane.json"
        # Pinned to the dataplane CPU through EAL's lcores (the unit pins nothing itself).
        config.write_text(
            '{"eal": ["--lcores", "0@%d,1@%d", "--no-pci", "--in-memory", "--file-prefix", "%s", '
            '"--log-level", "lib.eal:error", "--vdev", "net_tap0,iface=%s"], "idle": "auto", '
            '"control_socket": "%s", "sessions_per_worker": 4096, '
            '"ports": [{"name": "p0", "device": "net_tap0", "addresses": ["192.0.2.1/24"]}]}'
            % (DATAPLANE_CPU, DATAPLANE_CPU, lab.eal_prefix, tap, dp_socket))
        env_file = lab.tmp / "default-dplb"
        env_file.write_text(
            f"DPLB_DATAPLANE_CONFIG={config}\nDPLB_DATAPLANE_OPTS=\n"
            f'DPLB_CONTROL_OPTS="--socket {ctl_socket} --dataplane-socket {dp_socket} '
            f'--state {lab.tmp}/state/config.json --metrics-listen off"\n')
        dp_notify = NotifyListener(lab.tmp / "notify-dataplane")
        ctl_notify = NotifyListener(lab.tmp / "notify-control")
        listeners += [dp_notify, ctl_notify]

        u_dp, _, dp = start_unit(lab, root, "dplb-dataplane.service", env_file, dp_notify)
        ready = dp_notify.wait_for("READY=1", 60, dp)
        # At READY=1 the promise holds: ports started, the socket serves.
        assert sh("ip", "link", "show", tap, check=False).returncode == 0, f"no {tap} at READY=1"
        lab.dataplane_socket = str(dp_socket)
        status = lab.dataplane_request({"cmd": "status"})
        assert [p["name"] for p in status["ports"]] == ["p0"], status
        assert "STATUS=1 port(s), 1 worker(s)" in ready, ready
        assert unit_file.value(u_dp, "Service", "Restart") == "on-failure"
        assert "dplb-hugepages.service" in " ".join(unit_file.values(u_dp, "Unit", "Requires"))

        u_ctl, _, ctl = start_unit(lab, root, "dplb-control.service", env_file, ctl_notify)
        ctl_notify.wait_for("READY=1", 30, ctl)
        adm = root / "usr/sbin/dplbadm"
        r = sh(adm, "--socket", ctl_socket, "-L", "-n", check=False)
        assert r.returncode == 0, r.stderr
        wait_until(lambda: '"connected"' in sh(adm, "--socket", ctl_socket, "--status", "--json").stdout, 15,
                   "dplb-control to reach the dataplane")
        assert unit_file.value(u_ctl, "Service", "Restart") == "always"
        assert unit_file.value(u_ctl, "Service", "StateDirectory") == "dplb"
        assert "dplb-dataplane.service" in " ".join(unit_file.values(u_ctl, "Unit", "Wants"))
        assert not unit_file.values(u_ctl, "Unit", "Requires") and not unit_file.values(u_ctl, "Unit", "BindsTo")

        # systemctl reload dplb-control
        env = unit_file.service_environment(u_ctl, {"/etc/default/dplb": str(env_file)})
        env["MAINPID"] = str(ctl.pid)
        run_exec(unit_file.values(u_ctl, "Service", "ExecReload"), env, root)
        # Without --keepalived-conf, SIGHUP has nothing to reload: dplb-control says so and goes on.
        wait_until(lambda: "event=keepalived_reload_skipped signal=HUP" in lab.log("dplb-control.service.log"), 10,
                   "dplb-control to see SIGHUP")
        assert ctl.poll() is None

        stop_unit(lab, "dplb-control.service", ctl, ctl_notify, 20)
        assert not ctl_socket.exists()
        stop_unit(lab, "dplb-dataplane.service", dp, dp_notify, 30)
        assert not dp_socket.exists()
        for name, listener in (("dplb-dataplane", dp_notify), ("dplb-control", ctl_notify)):
            print(f"PACKAGE-NOTIFY {name}: {[m.replace(chr(10), ' ') for m in listener.messages]}")
    finally:
        for listener in listeners:
            listener.close()
        lab.close()
