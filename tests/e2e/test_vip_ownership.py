"""Issue 12, VIP ownership follows the kernel (docs/ha.md): one dataplane with
`"vip_ownership": "kernel"` and its port's kernel twin in a namespace the dataplane moves it
into itself (`kernel_twin.netns`). A NAT service on the VIP answers nothing (no ARP reply, no
forwarding) until the VIP is configured on the twin, as keepalived's `virtual_ipaddress` does
on becoming MASTER; then it serves; once the address is removed it takes no new connection,
while a connection opened before keeps working. dplb-control's /metrics shows it:
dplb_vip_owned 0, 1, 0. The time from `ip addr add` to the first answered request is printed."""
import socket
import subprocess
import time

import pytest

import logfmt
from exposition import by_label, parse
from lab import SYSTEM_PYTHON, Lab, wait_until

PORT_ADDR = "192.168.229.1"
CLIENT = "192.168.229.200"
VIP = "192.168.229.100"
SRV_ADDR = "10.229.0.1"
RS = "10.229.0.11"

# Tries a new HTTP request every 20 ms (each a new connection, 150 ms to answer) and prints
# the CLOCK_MONOTONIC time of the first answer: the clock is the same in every namespace.
FIRST_ANSWER = """
import socket, sys, time
vip, limit = sys.argv[1], float(sys.argv[2])
end = time.monotonic() + limit
while time.monotonic() < end:
    try:
        with socket.create_connection((vip, 80), timeout=0.15) as s:
            s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
            s.settimeout(0.5)
            if b"RS" in s.recv(4096):
                print(time.monotonic(), flush=True)
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.02)
sys.exit(1)
"""

# A connection opened now, used later: prints "open" once connected, then on a line of
# stdin sends an HTTP/1.0 request on it and prints the answer (the server then closes).
KEEP_OPEN = """
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=3)
print("open", flush=True)
sys.stdin.readline()
s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(data.decode(errors="replace").replace("\\r\\n", " | "), flush=True)
"""


@pytest.fixture
def owner_lab():
    lab = Lab()
    try:
        lab.__enter__()  # inside: a failure after it made the switch namespace still closes the lab
        lab.segment("c")
        lab.segment("s")
        lab.host("client", "c", f"{CLIENT}/24")
        lab.host("rs", "s", f"{RS}/24", gateway=SRV_ADDR)
        lab.twin_if = f"k{lab.short}0"
        lab.twin_ns = lab.netns("kern")
        lab.start_dataplane([("lan", "c", f"{PORT_ADDR}/24"), ("srv", "s", f"{SRV_ADDR}/24")],
                            twins={"lan": {"name": lab.twin_if, "netns": lab.twin_ns}},
                            extra={"vip_ownership": "kernel"})
        # /metrics on a free port of the root namespace's loopback (other labs may use 9469).
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            lab.metrics_url = f"http://127.0.0.1:{s.getsockname()[1]}/metrics"
        lab.start_control(metrics=True, extra=["--metrics-listen", lab.metrics_url.split("/")[2]])
        yield lab
    finally:
        lab.close()


def kernel_ip(lab, *args):
    return subprocess.run(["ip", "-n", lab.twin_ns, *args], check=True, capture_output=True, text=True).stdout


def ownership(lab):
    return lab.dataplane_status().get("vip_ownership", {})


def vip_owned(lab):
    """{vip: value} of dplb_vip_owned on a live /metrics page (docs/operations.md)."""
    code, headers, body = lab.scrape(lab.metrics_url)
    assert code == 200, f"{code} {headers}\ncontrol.log:\n{lab.log('control.log')[-3000:]}"
    return by_label(parse(body), "dplb_vip_owned", "vip")


def test_vip_served_only_while_the_kernel_twin_holds_it(owner_lab):
    lab = owner_lab
    client = lab.hosts["client"]
    # The dataplane moved the twin into its namespace and set it up there.
    link = kernel_ip(lab, "-o", "link", "show", lab.twin_if)
    assert "UP" in link.split(">")[0], link
    kernel_ip(lab, "addr", "add", f"{PORT_ADDR}/24", "dev", lab.twin_if)
    lab.http_server(lab.hosts["rs"], "RS")
    lab.adm("-A", "-t", f"{VIP}:80", "-s", "rr")
    lab.adm("-a", "-t", f"{VIP}:80", "-r", f"{RS}:80", "-m")
    wait_until(lambda: ownership(lab).get("synced"), 5, "the twin's addresses")
    st = ownership(lab)
    assert st["mode"] == "kernel" and st["owned_vips"] == [], st
    assert PORT_ADDR in st["kernel_addresses"], st
    assert vip_owned(lab) == {VIP: 0}

    # Not held: no ARP answer, nothing forwarded.
    with pytest.raises(subprocess.CalledProcessError):
        client.curl(f"http://{VIP}/", timeout=1)
    assert lab.drops().get("arp_not_owned", 0) >= 1, lab.drops()
    assert "lladdr" not in client.run("ip", "neigh", "show", VIP).stdout

    # keepalived's part: the VIP on the twin. The first request answered after it, timed.
    prober = subprocess.Popen(["ip", "netns", "exec", client.ns, SYSTEM_PYTHON, "-c", FIRST_ANSWER, VIP, "10"],
                              stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)  # the prober is failing by now
        t0 = time.monotonic()
        kernel_ip(lab, "addr", "add", f"{VIP}/32", "dev", lab.twin_if)
        out, _ = prober.communicate(timeout=15)
    finally:
        if prober.poll() is None:
            prober.kill()
            prober.wait()
    assert prober.returncode == 0, "no answer within 10 s of ip addr add"
    print(f"\nip addr add VIP -> first answered request: {(float(out.split()[0]) - t0) * 1000:.1f} ms")
    st = ownership(lab)
    assert st["owned_vips"] == [VIP] and st["vips_gained"] == 1, st
    assert vip_owned(lab) == {VIP: 1}
    assert client.curl(f"http://{VIP}/") == "RS\n"

    # A connection opened (handshake done) while held...
    keep = subprocess.Popen(["ip", "netns", "exec", client.ns, SYSTEM_PYTHON, "-c", KEEP_OPEN, VIP],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    try:
        assert keep.stdout.readline().strip() == "open"
        # ...the VIP leaves the twin (keepalived becoming BACKUP).
        kernel_ip(lab, "addr", "del", f"{VIP}/32", "dev", lab.twin_if)
        wait_until(lambda: ownership(lab).get("owned_vips") == [], 5, "the VIP given up")
        assert vip_owned(lab) == {VIP: 0}
        before = lab.drops().get("vip_not_owned", 0)
        with pytest.raises(subprocess.CalledProcessError):  # a new connection: the client still has the MAC, the SYN is dropped
            client.curl(f"http://{VIP}/", timeout=1)
        assert lab.drops().get("vip_not_owned", 0) > before, lab.drops()
        keep.stdin.write("go\n")  # the existing session still forwards, both ways
        answer = keep.stdout.readline()
        assert "200" in answer and "RS" in answer, answer
    finally:
        keep.kill()
        keep.wait()
    st = ownership(lab)
    assert st["vips_lost"] == 1 and st["netlink_errors"] == 0, st
    text = lab.adm("--status").stdout
    assert "vip_ownership:" in text and "mode=kernel" in text, text

    # docs/operations.md, "Logs": the dataplane's lines are one event each in the key=value
    # shape (DPDK's own EAL lines keep theirs), and say when the VIP was gained and given up.
    assert lab.stop_dataplane() == 0
    text = lab.log("dataplane.log")
    assert "dplb-dataplane:" not in text, text  # no line in the old shape
    lines = logfmt.parse_log(text, "dplb-dataplane")
    events = [(l.get("event"), l.get("vip")) for l in lines]
    assert [e for e in events if e[1] == VIP] == [("vip_owned", VIP), ("vip_released", VIP)], events
    names = [e for e, _ in events]
    for e in ("port_started", "twin_started", "started", "config_applied", "signal_received", "stopped"):
        assert e in names, names
    assert names[-1] == "stopped", names
