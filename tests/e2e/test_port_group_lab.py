"""The firewall-mark lab of ../shared/seeds/001_be4b2f796ff40615.txt section 9, on the DR lab.

LVS groups ports 80 and 443 of the VIP into mark 66 with iptables
(`-t mangle -A PREROUTING -d 192.168.0.200 -p tcp -m multiport --dports 80,443 -j MARK
--set-mark 66`); dplb's port groups define the mark in its own configuration
(`dplbadm --add-mark`), and then the seed's ipvsadm lines run unchanged. Both ports serve
plain HTTP here (port_group_lab): the seed's 443 is https, but TLS is not what is tested.
"""
from conftest import DR_PAGE, DR_RS, DR_VIP, real_server_line

WS1, WS2 = DR_PAGE["webserver1"], DR_PAGE["webserver2"]


def http_then_https(client):
    """The seed's `curl 192.168.0.200; curl -k https://192.168.0.200`, over plain HTTP."""
    return [client.curl(f"http://{DR_VIP}/").strip(), client.curl(f"http://{DR_VIP}:443/").strip()]


def mark_66(lab):
    lab.adm("--add-mark", "-f", "66", "-t", f"{DR_VIP}:80")
    lab.adm("--add-mark", "-f", "66", "-t", f"{DR_VIP}:443")
    lab.adm("-A", "-f", "66", "-s", "rr")
    lab.adm("-a", "-f", "66", "-r", DR_RS["webserver1"], "-g")
    lab.adm("-a", "-f", "66", "-r", DR_RS["webserver2"], "-g")


def test_separate_services_schedule_each_port_on_its_own(port_group_lab):
    """The seed's problem: one rr service per port sends the first request of each port to
    the same server."""
    lab = port_group_lab
    for port in (80, 443):
        lab.adm("-A", "-t", f"{DR_VIP}:{port}", "-s", "rr")
        for name in ("webserver1", "webserver2"):
            lab.adm("-a", "-t", f"{DR_VIP}:{port}", "-r", DR_RS[name], "-g")
    client = lab.hosts["client"]
    assert http_then_https(client) == [WS1, WS1]
    assert http_then_https(client) == [WS2, WS2]


def test_mark_66_schedules_both_ports_as_one_service(port_group_lab):
    lab = port_group_lab
    lab.adm("-C")
    mark_66(lab)
    assert lab.adm("-L", "-n").stdout.splitlines()[1:] == [
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
        "FWM  66 rr",
        real_server_line(f"{DR_RS['webserver1']}:0", "Route"),
        real_server_line(f"{DR_RS['webserver2']}:0", "Route"),
    ]
    client = lab.hosts["client"]
    # One rr sequence across both ports, as in the seed's output.
    assert http_then_https(client) == [WS1, WS2]
    assert http_then_https(client) == [WS1, WS2]
    (svc,) = lab.listing()["services"]
    assert svc["stats"]["conns"] == 4
    assert [r["stats"]["conns"] for r in svc["real_servers"]] == [2, 2]


def test_mark_66_with_persistence_keeps_a_client_on_one_server_across_ports(port_group_lab):
    lab = port_group_lab
    mark_66(lab)
    lab.adm("-E", "-f", "66", "-s", "rr", "-p", "300")
    listing = lab.adm("-L", "-n").stdout.splitlines()
    assert "FWM  66 rr persistent 300" in listing, listing
    first, second = lab.hosts["client"], lab.hosts["client1"]
    # The first client's first connection picks a server and creates the template; every
    # later connection of that client, to either port, follows it.
    a = [body for _ in range(3) for body in http_then_https(first)]
    assert len(set(a)) == 1, a
    # A second client is scheduled on its own (rr: the other server) and sticks there too.
    b = [body for _ in range(3) for body in http_then_https(second)]
    assert len(set(b)) == 1, b
    assert {a[0], b[0]} == {WS1, WS2}
    # Interleaved, both still stick.
    assert http_then_https(first) + http_then_https(second) == [a[0], a[0], b[0], b[0]]
