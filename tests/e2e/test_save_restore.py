"""`-S` then `-C` then `-R` (the seed NAT lab's `ipvsadm -Sn > /etc/sysconfig/ipvsadm` and
the ipvsadm service's restore, ../shared/seeds/000_aa2028958ed25a82.txt): the same table
comes back and traffic flows again. On the seed NAT lab (conftest `lab`), with a table that
uses what `-S` has to write: NAT, FULLNAT with a local address, weights, persistence, UDP,
and a mark service with its port group (dplb's extension to ipvsadm-save's format).
"""
from conftest import LIP, RS, VIP

SEED = [  # the seed lab's service, as `ipvsadm -Sn` writes it
    f"-A -t {VIP}:80 -s rr",
    f"-a -t {VIP}:80 -r {RS['RS1']}:80 -m -w 1",
    f"-a -t {VIP}:80 -r {RS['RS2']}:80 -m -w 1",
]


def build_table(lab):
    lab.adm("-A", "-t", f"{VIP}:80", "-s", "rr")
    lab.adm("-a", "-t", f"{VIP}:80", "-r", f"{RS['RS1']}:80", "-m")
    lab.adm("-a", "-t", f"{VIP}:80", "-r", f"{RS['RS2']}:80", "-m")
    lab.adm("-A", "-t", f"{VIP}:8080", "-s", "wrr", "-p", "120")
    lab.adm("--add-laddr", "-z", LIP, "-t", f"{VIP}:8080")
    lab.adm("-a", "-t", f"{VIP}:8080", "-r", f"{RS['RS1']}:80", "-b", "-w", "3")
    lab.adm("-a", "-t", f"{VIP}:8080", "-r", f"{RS['RS2']}:80", "-b", "-w", "1")
    lab.adm("-A", "-u", f"{VIP}:53", "-s", "wlc")
    lab.adm("-a", "-u", f"{VIP}:53", "-r", f"{RS['RS1']}:53", "-m", "-w", "5")
    lab.adm("--add-mark", "-f", "7", "-t", f"{VIP}:8443")
    lab.adm("--add-mark", "-f", "7", "-t", f"{VIP}:9443")
    lab.adm("-A", "-f", "7", "-s", "rr")
    lab.adm("-a", "-f", "7", "-r", RS["RS2"], "-m")


def service_table(lab):
    """`-L -n` without the connection counters (sessions of the cleared services may still be
    counted or not after the restore; the table is what must come back)."""
    return [line.split()[:4] if line.startswith("  ->") else line
            for line in lab.adm("-L", "-n").stdout.splitlines()]


def traffic_works(lab):
    client = lab.hosts["client"]
    # A restored service is a new service: rr starts again at the first real server.
    assert [client.curl(f"http://{VIP}/").strip() for _ in range(4)] == ["RS1", "RS2", "RS1", "RS2"]
    # FULLNAT with persistence: the client stays on one server, seen from the local address.
    sticky = {client.curl(f"http://{VIP}:8080/").strip() for _ in range(3)}
    assert len(sticky) == 1 and sticky <= {"RS1", "RS2"}, sticky
    assert client.curl(f"http://{VIP}:8080/client").strip() == LIP


def test_save_clear_restore(lab):
    build_table(lab)
    traffic_works(lab)
    before = service_table(lab)
    saved = lab.adm("-S", "-n").stdout
    assert lab.adm("-Sn").stdout == saved  # as the seed spells it
    lines = saved.splitlines()
    i = lines.index(SEED[0])
    assert lines[i:i + 3] == SEED, saved

    lab.adm("-C")
    assert lab.listing()["services"] == []
    r = lab.hosts["client"].run("curl", "-sS", "-m", "2", f"http://{VIP}/", check=False, timeout=10)
    assert r.returncode != 0, "a cleared table still answered"

    lab.adm("-R", input=saved)
    assert service_table(lab) == before
    assert lab.adm("-S", "-n").stdout == saved
    traffic_works(lab)


def test_restore_is_all_or_nothing(lab):
    build_table(lab)
    saved = lab.adm("-S", "-n").stdout
    lab.adm("-C")
    lines = saved.splitlines()
    bad = f"-a -t {VIP}:80 -r 192.168.253.150:80 -m -w 70000"  # weight out of range (0..65535)
    broken = "\n".join(lines[:3] + [bad] + lines[3:]) + "\n"
    r = lab.adm("-R", input=broken, check=False)
    assert r.returncode != 0
    assert "line 4" in r.stderr.lower() or bad in r.stderr, r.stderr  # the failing line is named
    assert lab.listing()["services"] == []  # nothing of the file was applied
    # The good file still restores afterwards.
    lab.adm("-R", input=saved)
    assert lab.adm("-S", "-n").stdout == saved
