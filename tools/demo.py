"""dplb demo: a FULLNAT virtual service in front of two web servers, in network namespaces.

Topology (all created here, all removed at the end):

  client 192.168.227.200 --[bridge]-- dplb-dataplane --[bridge]-- RS1 192.168.253.143
                                      (net_tap x2)              `- RS2 192.168.253.144
  VIP 192.168.227.128:80, local (SNAT) address 192.168.253.200
"""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("DPLB_BUILD_DIR", str(ROOT / "build"))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from conftest import LIP, RS, VIP, two_arm_lab  # noqa: E402


def step(text):
    print(f"\n== {text}")


def adm(lab, *args):
    print("$ dplbadm " + " ".join(args))
    out = lab.adm(*args).stdout
    if out:
        print(out.rstrip())


def main():
    step("Starting dplb-dataplane (DPDK, net_tap ports, 1 worker on CPU 1) and dplb-control")
    lab = two_arm_lab()
    try:
        st = lab.dataplane_status()
        for p in st.get("ports", []):
            print(f"   port {p['name']}: {p['driver']} {p['mac']} {', '.join(p['addresses'])}")
        step("Configuring a FULLNAT service with ipvsadm syntax")
        adm(lab, "-A", "-t", f"{VIP}:80", "-s", "rr")
        adm(lab, "--add-laddr", "-z", LIP, "-t", f"{VIP}:80")
        adm(lab, "-a", "-t", f"{VIP}:80", "-r", f"{RS['RS1']}:80", "-b")
        adm(lab, "-a", "-t", f"{VIP}:80", "-r", f"{RS['RS2']}:80", "-b")
        adm(lab, "-L", "-n")

        step(f"curl http://{VIP}/ from the client, four times")
        client = lab.hosts["client"]
        for _ in range(4):
            print(f"$ curl http://{VIP}/   ->  {client.curl(f'http://{VIP}/').strip()}")
        seen = client.curl(f"http://{VIP}/client").strip()
        print(f"   the real server sees the client as {seen} (the local address: FULLNAT)")

        step("Counters")
        adm(lab, "-L", "-n", "--stats")
        print()
        print("demo: OK")
    finally:
        step("Cleaning up (processes, namespaces, DPDK files)")
        lab.close()
        print("done")


if __name__ == "__main__":
    main()
