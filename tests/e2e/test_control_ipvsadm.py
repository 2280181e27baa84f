"""dplb-control and dplbadm end to end on issue 3's command set, with the fake dataplane:
fwmark services and port groups, persistence, the connection table, rates as the dataplane
estimates them, and -S / -R (all or nothing). Collected through test_control_e2e.py,
whose fixtures these tests use."""
import json
import os
import time

from fake_dataplane import FakeDataplane
from test_control_e2e import VIP, Control, seed_nat_lab

FWM_LIST = (
    "IP Virtual Server version 1.2.1 (size=4096)\n"
    "Prot LocalAddress:Port Scheduler Flags\n"
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
    "FWM  66 rr\n"
    "  -> 192.168.0.10:0               Route   1      0          0         \n"
    "  -> 192.168.0.20:0               Route   1      0          0         \n")


def fwmark_lab(control):
    """Seed 001 section 9, with the port group standing for its iptables mark."""
    control.adm("--add-mark", "-f", "66", "-t", "192.168.0.200:80", check=0)
    control.adm("--add-mark", "-f", "66", "-t", "192.168.0.200:443", check=0)
    control.adm("-A", "-f", "66", "-s", "rr", check=0)
    control.adm("-a", "-f", "66", "-r", "192.168.0.10", "-g", check=0)
    control.adm("-a", "-f", "66", "-r", "192.168.0.20", "-g", check=0)


def test_seed_fwmark_lab_is_pushed_and_listed_like_ipvsadm(control, dataplane):
    fwmark_lab(control)
    dataplane.wait_for(lambda: dataplane.config and len(dataplane.config["services"]) == 1
                       and len(dataplane.config["services"][0]["real_servers"]) == 2)
    assert dataplane.config["port_groups"] == [{"mark": 66, "matches": [
        {"protocol": "tcp", "address": "192.168.0.200", "port": 80},
        {"protocol": "tcp", "address": "192.168.0.200", "port": 443}]}]
    svc = dataplane.config["services"][0]
    assert svc["fwmark"] == 66 and "protocol" not in svc
    assert control.adm("-Ln", check=0).stdout == FWM_LIST
    assert control.adm("--get-mark", check=0).stdout == (
        "FWM        Prot VirtualAddress:Port(s)\n"
        "66         TCP  192.168.0.200:80\n"
        "           TCP  192.168.0.200:443\n")
    # A mark of no port group is allowed (IPVS allows marks nobody sets) and listed.
    control.adm("-A", "-f", "67", "-s", "wrr", "-p", "600", "-M", "255.255.255.0", check=0)
    assert control.adm("-Ln", check=0).stdout.endswith("FWM  67 wrr persistent 600 mask 255.255.255.0\n")
    r = control.adm("-A", "-t", "192.168.0.200:443", "-s", "rr")
    assert r.returncode == 1 and "is also matched by port group 66's tcp 192.168.0.200:443" in r.stderr


def test_persistent_conn_and_thresholds_columns(control, dataplane):
    control.adm("-A", "-t", VIP, "-s", "wlc", "-p", check=0)
    control.adm("-a", "-t", VIP, "-r", "192.168.253.143", "-g", "-x", "100", "-y", "10", check=0)
    dataplane.counters[("tcp", "192.168.227.128", 80)] = {"active_conns": 3, "persistent_conns": 2}
    out = control.adm("-Ln", "--persistent-conn", check=0).stdout.splitlines()
    assert out[1] == "Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn "
    assert out[3] == "TCP  192.168.227.128:80 wlc persistent 300"
    assert out[4] == "  -> 192.168.253.143:80           1         2           3          0         "
    out = control.adm("-Ln", "--thresholds", check=0).stdout.splitlines()
    assert out[4] == "  -> 192.168.253.143:80           100        10         3          0         "


def test_connections_are_forwarded_to_the_dataplane(control, dataplane):
    seed_nat_lab(control)
    dataplane.connection_table = [
        {"protocol": "tcp", "state": "ESTABLISHED", "expires_ms": 899000, "client": "192.168.227.200:40000",
         "virtual": "192.168.227.128:80", "real": "192.168.253.143:80", "forward": "nat", "template": False},
        {"protocol": "tcp", "state": "TIME_WAIT", "expires_ms": 61500, "client": "192.168.227.201:40001",
         "virtual": "10.0.0.9:80", "real": "192.168.253.150:80", "forward": "nat", "template": False},
    ]
    r = control.adm("-L", "-n", "-c", check=0)
    assert r.stdout == (
        "IPVS connection entries\n"
        "pro expire state       source             virtual            destination\n"
        "TCP 14:59  ESTABLISHED 192.168.227.200:40000 192.168.227.128:80 192.168.253.143:80\n"
        "TCP 01:01  TIME_WAIT   192.168.227.201:40001 10.0.0.9:80        192.168.253.150:80\n")
    assert dataplane.commands("connections")[-1] == {"cmd": "connections", "limit": 100000}
    one = control.adm("-L", "-c", "-t", VIP, check=0).stdout.splitlines()
    assert len(one) == 3 and "192.168.227.128:80" in one[2]
    j = control.request({"cmd": "connections", "limit": 1})
    assert j["ok"] is True and j["truncated"] is True and len(j["connections"]) == 1
    dataplane.stop()
    assert dataplane.wait_for(lambda: control.request({"cmd": "status"})["dataplane"] == "disconnected")
    r = control.adm("-Lnc")
    assert r.returncode == 1
    assert r.stderr == "dplbadm: the dataplane is not connected: no connection table to show\n"


def test_rates_are_the_dataplanes_estimates(control, dataplane):
    seed_nat_lab(control)
    key = ("tcp", "192.168.227.128", 80)
    dataplane.rates[key] = {"cps": 100, "inpps": 1000, "outpps": 900, "inbps": 100000, "outbps": 900000}
    rates = control.request({"cmd": "list"})["services"][0]["rates"]
    assert rates == dataplane.rates[key]
    out = control.adm("-L", "-n", "--rate", check=0).stdout.splitlines()
    assert out[1] == "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS"
    assert out[3].startswith("TCP  192.168.227.128:80")
    assert out[3].split()[2:] == ["100", "1000", "900", "100000", "900000"]
    # -Z restarts the estimates, in the dataplane.
    control.adm("-Z", check=0)
    assert dataplane.commands("zero-rates") == [{"cmd": "zero-rates"}]
    assert control.request({"cmd": "list"})["services"][0]["rates"]["cps"] == 0
    # Nothing samples the dataplane's counters periodically any more.
    time.sleep(0.2)
    stats = len(dataplane.commands("stats"))
    time.sleep(2.2)  # more than the 2 s sampling interval dplb-control used to have
    assert len(dataplane.commands("stats")) == stats


def test_save_clear_restore_gives_the_same_table(control, dataplane):
    seed_nat_lab(control)
    fwmark_lab(control)
    control.adm("--set", "800", "0", "0", check=0)
    control.adm("--set", "60", "0", "30", "-t", VIP, check=0)
    control.adm("--add-laddr", "-z", "192.168.100.200", "-t", VIP, check=0)
    control.adm("-a", "-t", VIP, "-r", "192.168.253.145:8080", "-b", "-w", "3", check=0)
    control.adm("-A", "-t", "10.0.0.1:80", "-s", "sh", "-b", "flag-1,flag-2", check=0)
    control.adm("-A", "-u", "10.0.0.53:0", "-s", "mh", "--mh-table-size", "251", "-p", "60", check=0)
    before = control.request({"cmd": "get-config"})["config"]
    saved = control.adm("-S", "-n", check=0).stdout
    unsorted = control.adm("-S", "--nosort", check=0).stdout
    assert "-A -t 10.0.0.1:80 -s sh -b sh-fallback,sh-port\n" in saved
    assert saved.startswith("--set 800 120 300\n--add-mark -f 66 -t 192.168.0.200:80\n")
    assert "-A -t 192.168.227.128:80 -s rr\n--add-laddr -z 192.168.100.200 -t 192.168.227.128:80\n" in saved
    listing = control.adm("-Ln", check=0).stdout

    control.adm("-C", check=0)
    assert control.request({"cmd": "get-config"})["config"]["services"] == []
    r = control.adm("-R", input=saved)
    assert r.returncode == 0, r.stderr
    # -S sorts as ipvsadm does, so the table comes back in ipvsadm's order.
    assert sorted_config(control.request({"cmd": "get-config"})["config"]) == sorted_config(before)
    assert control.adm("-Ln", check=0).stdout == listing
    # -S --nosort keeps the configuration's own order: exactly the same configuration.
    control.adm("-C", check=0)
    control.adm("-R", input=unsorted, check=0)
    assert control.request({"cmd": "get-config"})["config"] == before
    assert dataplane.wait_for(lambda: dataplane.config == before)


def sorted_config(config):
    def key(s):
        return (s.get("fwmark", 0), s.get("protocol", ""), s.get("address", ""), s.get("port", 0))
    services = sorted(config["services"], key=key)
    for s in services:
        s["real_servers"] = sorted(s["real_servers"], key=lambda r: (r["address"], r["port"]))
    return {**config, "services": services}


def test_restore_with_a_bad_line_changes_nothing(control, dataplane):
    seed_nat_lab(control)
    before = control.request({"cmd": "get-config"})
    pushes = len(dataplane.wait_for_applies(4))
    rules = ("-A -t 10.0.0.1:80 -s rr\n"
             "-a -t 10.0.0.1:80 -r 10.1.1.1 -m\n"
             "-a -t 10.0.0.1:80 -r 10.1.1.2:8080 -i\n"
             "-A -t 10.0.0.2:80 -s rr\n")
    r = control.adm("-R", input=rules)
    assert r.returncode == 1
    assert r.stderr == ("dplbadm: line 3: real_server.port: tunnel cannot change the port: the real server must "
                        "use the service's port 80, not 8080\n")
    after = control.request({"cmd": "get-config"})
    assert after == before  # same configuration, same generation
    assert len(dataplane.applies()) == pushes
    # Without the bad line, everything at once: one replace-config, one push.
    r = control.adm("-R", input=rules.replace(":8080 -i", " -i"))
    assert r.returncode == 0, r.stderr
    assert len(control.request({"cmd": "get-config"})["config"]["services"]) == 3
    assert len(dataplane.wait_for_applies(pushes + 1)) == pushes + 1
    assert control.request({"cmd": "get-config"})["generation"] == before["generation"] + 1


def test_edit_service_is_ipvsadm_exact(control, dataplane):
    control.adm("-A", "-t", VIP, "-s", "sh", "-b", "sh-port", "-p", "120", check=0)
    assert control.adm("-Ln", check=0).stdout.splitlines()[3] == "TCP  192.168.227.128:80 sh (sh-port) persistent 120"
    control.adm("-E", "-t", VIP, "-s", "rr", check=0)  # no -p: not persistent any more, as in ipvsadm
    assert control.adm("-Ln", check=0).stdout.splitlines()[3] == "TCP  192.168.227.128:80 rr"
    svc = json.loads(control.adm("-L", "--json", check=0).stdout)["services"][0]
    assert "persistence" not in svc and svc["sched_flags"] == []
    assert control.adm("-L", "--timeout", "-t", VIP, check=0).stdout == "Timeout (tcp tcpfin udp): 900 120 300\n"


def test_the_trex_service_file_restores(control, dataplane):
    """configs/services-trex.txt (docs/benchmarking.md) is what `dplbadm -R` takes, as shipped."""
    from pathlib import Path
    text = (Path(__file__).resolve().parents[2] / "configs" / "services-trex.txt").read_text()
    r = control.adm("-R", input=text)
    assert r.returncode == 0, r.stderr
    config = control.request({"cmd": "get-config"})["config"]
    keys = {(s["protocol"], s["address"], s["port"]) for s in config["services"]}
    assert ("udp", "192.0.2.100", 53) in keys and ("tcp", "192.0.2.100", 80) in keys
    assert all(len(s["real_servers"]) == 8 for s in config["services"])


def test_sync_daemons_start_list_stop_and_survive_a_restart(workdir):
    """ipvsadm --start-daemon / -L --daemon / --stop-daemon, through the real control socket;
    the daemons reach the dataplane with the configuration and a restarted dplb-control keeps
    them (the kernel would forget them), while -S leaves them out as ipvsadm does."""
    dp = FakeDataplane(os.path.join(workdir, "dataplane.sock")).start()
    c = Control(workdir).start()
    try:
        assert c.adm("-L", "--daemon", check=0).stdout == ""
        c.adm("--start-daemon", "master", "--mcast-interface", "dplb0", "--syncid", "7", check=0)
        c.adm("--start-daemon", "backup", "--mcast-interface", "dplb0", "--syncid", "7",
              "--sync-peer", "192.168.99.2", check=0)
        daemons = ("master sync daemon (mcast=dplb0, syncid=7, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n"
                   "backup sync daemon (mcast=dplb0, syncid=7, maxlen=1472, group=224.0.0.81, port=8848, ttl=1, "
                   "peers=192.168.99.2)\n")
        assert c.adm("-L", "--daemon", check=0).stdout == daemons
        r = c.adm("--start-daemon", "master", "--mcast-interface", "eth1")
        assert r.returncode == 1
        assert "a master sync daemon is already running (on dplb0, syncid 7); stop it first" in r.stderr
        r = c.adm("--start-daemon", "master", "--mcast-interface", "eth1", "--sync-maxlen", "100")
        assert r.returncode == 1 and "sync_maxlen: must be between 128 and 65507" in r.stderr
        # The dataplane has them (the fake one asks for whole configurations).
        dp.wait_for(lambda: dp.config and len(dp.config.get("sync_daemons", [])) == 2)
        assert dp.config["sync_daemons"][1]["peers"] == ["192.168.99.2"]
        # -S saves the table only; -C keeps the daemons.
        seed_nat_lab(c)
        assert "daemon" not in c.adm("-S", "-n", check=0).stdout
        c.adm("-C", check=0)
        assert c.adm("-L", "--daemon", check=0).stdout == daemons
        assert c.adm("--status", check=0).stdout.count("sync daemon (mcast=dplb0") == 2

        c.adm("--stop-daemon", "master", check=0)
        # A unicast master beside the unicast backup on the same port: refused (docs/ha.md).
        r = c.adm("--start-daemon", "master", "--mcast-interface", "dplb0", "--sync-peer", "192.168.99.3")
        assert r.returncode == 1
        assert "need different mcast_port values (both 8848)" in r.stderr
        r = c.adm("--stop-daemon", "master")
        assert r.returncode == 1 and "no master sync daemon is running" in r.stderr
        assert c.stop() == 0
        c.start()
        assert c.adm("-L", "--daemon", check=0).stdout == daemons.split("\n", 1)[1]

        # keepalived's lvs_sync_daemon: a master and a backup, replacing what ran.
        conf = os.path.join(workdir, "keepalived.conf")
        with open(conf, "w") as f:
            f.write("global_defs {\n    lvs_sync_daemon dplb0 id 9 ttl 3\n}\n"
                    "virtual_server 192.168.227.128 80 {\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n"
                    "    real_server 192.168.253.143 80 {\n        weight 1\n    }\n}\n")
        r = c.adm("--import-keepalived", conf, check=0)
        assert "a master and a backup sync daemon on dplb0, syncid 9" in r.stderr
        assert c.adm("-L", "--daemon", check=0).stdout == (
            "master sync daemon (mcast=dplb0, syncid=9, maxlen=1472, group=224.0.0.81, port=8848, ttl=3)\n"
            "backup sync daemon (mcast=dplb0, syncid=9, maxlen=1472, group=224.0.0.81, port=8848, ttl=3)\n")
    finally:
        c.stop()
        dp.stop()
