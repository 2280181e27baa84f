"""UDP through the dataplane, as TCP goes in the seed labs: FULLNAT and NAT services on a UDP
port, and a port-0 service (every port of a VIP). Each datagram comes from a new source port,
so each is a new flow to schedule."""
import json

from conftest import LIP, RS, VIP
from lab import HERE, SYSTEM_PYTHON, wait_until

UDP_PORTS = (53, 5000, 5001)


def udp_servers(lab):
    for name, addr in RS.items():
        h = lab.hosts[name.lower()]
        h.spawn(SYSTEM_PYTHON, HERE / "udp_echo.py", "serve", addr, name, *map(str, UDP_PORTS))
        wait_until(lambda: h.run("ss", "-lun", check=False).stdout.count(f"{addr}:") >= len(UDP_PORTS), 10,
                   f"{name}'s UDP server")


def ask(lab, port, count, client="client"):
    out = lab.hosts[client].run(SYSTEM_PYTHON, HERE / "udp_echo.py", "ask", VIP, str(port), str(count),
                                timeout=count * 2 + 10).stdout
    return json.loads(out)


def test_udp_fullnat_and_nat_round_robin(lab):
    udp_servers(lab)
    lab.adm("-A", "-u", f"{VIP}:53", "-s", "rr")
    lab.adm("--add-laddr", "-z", LIP, "-u", f"{VIP}:53")
    for name in RS:
        lab.adm("-a", "-u", f"{VIP}:53", "-r", f"{RS[name]}:53", "-b")
    answers = ask(lab, 53, 6)
    assert None not in answers, answers
    # rr alternates, every datagram a new flow; FULLNAT: the server sees the local address.
    assert [a.split()[0] for a in answers] == ["RS1", "RS2"] * 3
    assert {a.split()[2] for a in answers} == {LIP}
    # NAT on the same port: the server sees the client.
    lab.adm("-D", "-u", f"{VIP}:53")
    lab.adm("-A", "-u", f"{VIP}:53", "-s", "rr")
    for name in RS:
        lab.adm("-a", "-u", f"{VIP}:53", "-r", f"{RS[name]}:53", "-m")
    answers = ask(lab, 53, 4)
    assert None not in answers, answers
    assert [a.split()[0] for a in answers] == ["RS1", "RS2"] * 2
    assert {a.split()[2] for a in answers} == {lab.hosts["client"].address}
    listing = lab.adm("-L", "-n").stdout
    assert f"UDP  {VIP}:53 rr" in listing


def test_udp_port_zero_service_keeps_the_port_asked_for(lab):
    udp_servers(lab)
    # As in IPVS, a port-0 service must be persistent: one client, one server, every port.
    lab.adm("-A", "-u", f"{VIP}:0", "-s", "rr", "-p", "60")
    for name in RS:
        lab.adm("-a", "-u", f"{VIP}:0", "-r", f"{RS[name]}:0", "-m")
    servers = set()
    for port in (5000, 5001):
        answers = ask(lab, port, 4)
        assert None not in answers, (port, answers)
        servers |= {a.split()[0] for a in answers}
        assert {a.split()[1] for a in answers} == {str(port)}  # the real server got the port asked for
    assert len(servers) == 1, servers
    # A port no server listens on is still forwarded (the servers' kernels refuse it).
    assert ask(lab, 5002, 1) == [None]
