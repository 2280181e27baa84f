"""Quiescing a real server (`ipvsadm -e ... -w 0`) while requests run, on the seed NAT lab.

Weight 0 means: no new connection to the server, the ones it has keep working, nothing fails.
"""
import subprocess

from conftest import RS, VIP
from lab import RequestLoop, wait_until

SERVICE = f"{VIP}:80"
URL = f"http://{VIP}/"


def real_conns(lab):
    (svc,) = lab.listing()["services"]
    return {r["address"]: r["stats"]["conns"] for r in svc["real_servers"]}


def test_weight_zero_during_a_request_loop(lab):
    lab.adm("-A", "-t", SERVICE, "-s", "rr")
    lab.adm("-a", "-t", SERVICE, "-r", f"{RS['RS1']}:80", "-m")
    lab.adm("-a", "-t", SERVICE, "-r", f"{RS['RS2']}:80", "-m")
    client = lab.hosts["client"]
    # Two connections held open across the change (the server answers after 8 s): rr puts
    # the first on RS1 and the second on RS2, which is then quiesced under it.
    held = [client.spawn("curl", "-sS", "--fail", "-m", "20", "-o", lab.tmp / f"held{i}.txt",
                         f"{URL}slow?ms=8000", log=f"held{i}.log") for i in range(2)]
    wait_until(lambda: sum(real_conns(lab).values()) == 2, 5, "the held connections to be scheduled")
    assert real_conns(lab) == {RS["RS1"]: 1, RS["RS2"]: 1}

    with RequestLoop(client, URL, count=120, max_seconds=60) as loop:
        loop.wait_for(40)
        lab.adm("-e", "-t", SERVICE, "-r", f"{RS['RS2']}:80", "-m", "-w", "0")
        # -e returns once the dataplane runs the new weight: a request started after this
        # point cannot go to RS2. The one in flight now may have been scheduled before.
        changed_at = loop.done + 1
        rs2_conns_at_change = real_conns(lab)[RS["RS2"]]
        assert [p.poll() for p in held] == [None, None], "the held connections ended before the change"
        loop.wait_for(120, timeout=60)
    assert loop.failures == []
    assert loop.done == 120
    assert set(loop.bodies[:changed_at - 1]) == {"RS1", "RS2"}  # both served before
    assert set(loop.bodies[changed_at:]) == {"RS1"}, loop.bodies[changed_at:]
    assert real_conns(lab)[RS["RS2"]] == rs2_conns_at_change  # not one new connection
    (svc,) = lab.listing()["services"]
    assert {r["address"]: r["weight"] for r in svc["real_servers"]} == {RS["RS1"]: 1, RS["RS2"]: 0}

    # The connections established before the change completed, RS2's included.
    for i, p in enumerate(held):
        try:
            assert p.wait(timeout=25) == 0, lab.log(f"held{i}.log")
        except subprocess.TimeoutExpired:
            raise AssertionError(f"held connection {i} did not finish") from None
    assert sorted((lab.tmp / f"held{i}.txt").read_text().strip() for i in range(2)) == ["RS1", "RS2"]
