"""Changes and failures while traffic runs: none may fail a request."""
import signal
import time

from conftest import LIP, RS, VIP
from lab import SYSTEM_PYTHON, RequestLoop, wait_until

URL = f"http://{VIP}/"


def fullnat_service(lab, reals=("RS1", "RS2")):
    lab.adm("-A", "-t", f"{VIP}:80", "-s", "rr")
    lab.adm("--add-laddr", "-z", LIP, "-t", f"{VIP}:80")
    for name in reals:
        lab.adm("-a", "-t", f"{VIP}:80", "-r", f"{RS[name]}:80", "-b")


def test_real_server_added_and_removed_under_load(lab):
    fullnat_service(lab, reals=("RS1",))
    with RequestLoop(lab.hosts["client"], URL, count=150) as loop:
        loop.wait_for(30)
        lab.adm("-a", "-t", f"{VIP}:80", "-r", f"{RS['RS2']}:80", "-b")
        loop.wait_for(70)
        lab.adm("-d", "-t", f"{VIP}:80", "-r", f"{RS['RS1']}:80")
        # The request in flight when the change returned may have been scheduled before it.
        removed = loop.done + 1
        loop.wait_for(removed + 36)
        readded = loop.done
        lab.adm("-a", "-t", f"{VIP}:80", "-r", f"{RS['RS1']}:80", "-b")
    assert loop.failures == []
    assert loop.done == 150
    assert set(loop.bodies) == {"RS1", "RS2"}
    # While RS1 was out it got no new connection.
    assert readded - removed >= 30
    assert "RS1" not in loop.bodies[removed:readded]


def test_control_killed_and_restarted_under_load(lab):
    fullnat_service(lab)
    config_before = lab.listing()
    with RequestLoop(lab.hosts["client"], URL, count=120) as loop:
        loop.wait_for(30)
        lab.control.send_signal(signal.SIGKILL)
        lab.control.wait(timeout=10)
        loop.wait_for(70)  # forwarding goes on with the last snapshot
        lab.start_control()  # restores its state file and pushes it again
        loop.wait_for(100)
    assert loop.failures == []
    assert loop.done == 120
    after = lab.listing()
    strip = lambda lst: [{k: v for k, v in s.items() if k not in ("stats", "rates", "real_servers")} |
                         {"reals": [(r["address"], r["port"], r["forward"], r["weight"]) for r in s["real_servers"]]}
                         for s in lst["services"]]
    # Counters and rates move with the traffic; the configuration must not.
    assert strip(after) == strip(config_before)


def test_dataplane_restart_gets_configuration_back(lab):
    fullnat_service(lab)
    assert lab.hosts["client"].curl(URL).strip() == "RS1"
    lab.restart_dataplane()
    wait_until(lambda: lab.status().get("dataplane") == "connected" and
               lab.dataplane_status().get("generation", 0) > 0, 20, "the control process to push again")
    bodies = sorted(lab.hosts["client"].curl(URL).strip() for _ in range(2))
    assert bodies == ["RS1", "RS2"]


MALFORMED = {
    # name: (scapy expression building the IP layer, drop reason the dataplane must count)
    "ihl_too_small": ("IP(dst=VIP, src=SRC, ihl=4)/TCP(dport=80, flags='S')", "ip_bad_ihl"),
    "total_length_beyond_frame": ("IP(dst=VIP, src=SRC, len=1400)/TCP(dport=80, flags='S')", "ip_bad_total_length"),
    "fragment": ("IP(dst=VIP, src=SRC, flags='MF', frag=0)/TCP(dport=80, flags='S')", "ip_fragment"),
    "tcp_data_offset_too_small": ("IP(dst=VIP, src=SRC)/TCP(dport=80, flags='S', dataofs=3)", "tcp_bad_data_offset"),
    "truncated_tcp": ("IP(dst=VIP, src=SRC, proto=6)/Raw(b'\\x00' * 10)", "l4_truncated"),
    "bad_ip_checksum": ("IP(dst=VIP, src=SRC, chksum=0x1234)/TCP(dport=80, flags='S')", "ip_bad_checksum"),
}


def test_malformed_packets_are_counted_and_traffic_continues(lab):
    fullnat_service(lab)
    client = lab.hosts["client"]
    assert client.curl(URL).strip() in RS
    mac = "02:dd:00:00:00:01"  # the dataplane's client port (lab.start_dataplane)
    before = lab.drops()
    lines = ["from scapy.all import *", f"VIP, SRC = {VIP!r}, {client.address!r}", "pkts = []"]
    for expr, _ in MALFORMED.values():
        lines.append(f"pkts.append(Ether(dst={mac!r})/{expr})")
    lines.append("sendp(pkts, iface='eth0', verbose=False)")
    client.run(SYSTEM_PYTHON, "-c", "\n".join(lines))
    try:
        wait_until(lambda: all(lab.drops().get(r, 0) > before.get(r, 0) for _, r in MALFORMED.values()), 10,
                   "every malformed packet to be counted")
    except TimeoutError as e:
        raise AssertionError(f"{e}: drops before {before}, after {lab.drops()}") from None
    after = lab.drops()
    for name, (_, reason) in MALFORMED.items():
        assert after.get(reason, 0) - before.get(reason, 0) == 1, (name, reason, after)
    assert [client.curl(URL).strip() for _ in range(2)] != []


def test_idle_dataplane_does_not_spin(lab):
    fullnat_service(lab)
    lab.hosts["client"].curl(URL)
    pid = lab.dataplane.pid
    ticks = lambda: sum(int(x) for x in open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[11:13])
    time.sleep(1)
    t0, start = ticks(), time.monotonic()
    time.sleep(3)
    cpu = (ticks() - t0) / 100 / (time.monotonic() - start)  # CLK_TCK is 100 on Linux
    assert cpu < 0.10, f"dataplane used {cpu:.0%} of a CPU while idle"
