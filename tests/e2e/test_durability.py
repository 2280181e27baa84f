"""Issue 10's durability lab: acknowledged changes survive `kill -9` of dplb-control at random
points, the dataplane killed mid-stream converges to the same configuration, and traffic
through the service whose weights change never fails.

The stream: 500 changes on the seed NAT lab's FULLNAT service (weights of RS1/RS2 set to a
value unique to the change, and quiesced extra real servers added and removed), sent on the
control socket as a script would. Every reply "ok" is an acknowledged change the model below
records. When dplb-control is killed while a request is in flight, that request's outcome is
unknown to the client: after the restart it must be either wholly there or wholly absent,
which the unique weight (or the presence of the extra server) tells.
"""
import json
import random
import signal
import socket
import threading
import time

from conftest import LIP, RS, VIP
from lab import RequestLoop, wait_until

URL = f"http://{VIP}/"
SERVICE = {"protocol": "tcp", "address": VIP, "port": 80}
EXTRA = [f"192.168.253.{100 + i}" for i in range(20)]  # never receive traffic: weight 0


class Client:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(15)
        self.s.connect(path)
        self.f = self.s.makefile("rb")

    def call(self, request):
        """The reply, or None when the connection broke before it came (outcome unknown)."""
        try:
            self.s.sendall(json.dumps(request).encode() + b"\n")
            line = self.f.readline()
        except OSError:
            return None
        return json.loads(line) if line else None

    def close(self):
        self.f.close()
        self.s.close()


def change(i, model):
    """The i-th change of the stream and what it does to the model if it takes effect."""
    if i % 5 == 0:
        extra = EXTRA[(i // 5) % len(EXTRA)]
        if extra in model:
            return ({"cmd": "delete-real", "service": SERVICE, "real_server": {"address": extra, "port": 80}},
                    lambda m: m.pop(extra))
        return ({"cmd": "add-real", "service": SERVICE,
                 "real_server": {"address": extra, "port": 80, "forward": "fullnat", "weight": 0}},
                lambda m: m.__setitem__(extra, 0))
    real = RS["RS1"] if i % 2 else RS["RS2"]
    weight = 1 + i  # unique to this change: tells whether an unacknowledged one took effect
    return ({"cmd": "edit-real", "service": SERVICE, "real_server": {"address": real, "port": 80, "weight": weight}},
            lambda m: m.__setitem__(real, weight))


def reals_listed(lab):
    svc = [s for s in lab.listing()["services"] if s.get("port") == 80][0]
    return {r["address"]: r["weight"] for r in svc["real_servers"]}


def save_text(model):
    """What `dplbadm -S -n` must print for the model (its sorted layout)."""
    lines = [f"-A -t {VIP}:80 -s rr", f"--add-laddr -z {LIP} -t {VIP}:80"]
    key = lambda a: tuple(int(x) for x in a.split("."))
    for addr in sorted(model, key=key):
        lines.append(f"-a -t {VIP}:80 -r {addr}:80 -b -w {model[addr]}")
    return "\n".join(lines) + "\n"


def run_stream(lab, model, first, count, on_step=None):
    client = Client(lab.control_socket)
    try:
        for i in range(first, first + count):
            request, effect = change(i, model)
            if on_step:
                client = on_step(i, client, request, effect) or client
                continue
            reply = client.call(request)
            assert reply and reply["ok"], (i, request, reply)
            effect(model)
    finally:
        client.close()
    return model


def test_kill9_of_control_and_dataplane_during_a_change_stream(lab):
    lab.adm("-A", "-t", f"{VIP}:80", "-s", "rr")
    lab.adm("--add-laddr", "-z", LIP, "-t", f"{VIP}:80")
    for name in ("RS1", "RS2"):
        lab.adm("-a", "-t", f"{VIP}:80", "-r", f"{RS[name]}:80", "-b")
    model = {RS["RS1"]: 1, RS["RS2"]: 1}
    rng = random.Random(10)
    kills = sorted(rng.sample(range(2, 60), 6))  # in units of 8 changes
    outcomes = []

    def kill_during(first, client):
        """Sends changes first..first+7 back to back (pipelined) and SIGKILLs dplb-control at a
        random instant among them; returns how many there were."""
        trial = dict(model)
        batch = []
        for i in range(first, first + 8):
            request, effect = change(i, trial)
            effect(trial)
            batch.append((request, effect))
        victim = lab.control
        timer = threading.Timer(rng.uniform(0, 0.006), lambda: victim.send_signal(signal.SIGKILL))
        try:
            client.s.sendall(b"".join(json.dumps(r).encode() + b"\n" for r, _ in batch))
        except OSError:
            pass
        timer.start()
        acked = 0
        for _ in batch:
            try:
                line = client.f.readline()
            except OSError:
                break
            if not line or not json.loads(line).get("ok"):
                break
            acked += 1
        timer.join()
        victim.wait(timeout=10)
        client.close()
        lab.start_control()  # state file + journal replayed, whole configuration pushed
        listed = reals_listed(lab)
        # Acknowledged changes must be there; the others, applied in order, may be there up to
        # any point (a whole request or nothing of it, never half).
        states = []
        state = dict(model)
        for j, (_, effect) in enumerate(batch):
            if j >= acked:
                states.append(dict(state))
            effect(state)
        states.append(dict(state))
        assert listed in states, (first, acked, listed, states)
        applied = next(j for j in range(acked, len(batch) + 1) if states[j - acked] == listed)
        for _, effect in batch[:applied]:
            effect(model)
        outcomes.append((first, acked, applied))
        assert listed == model
        return Client(lab.control_socket), len(batch)

    with RequestLoop(lab.hosts["client"], URL, count=400, max_seconds=120) as loop:
        client = Client(lab.control_socket)
        i = 0
        while i < 500:
            if i % 8 == 0 and i // 8 in kills:
                client, n = kill_during(i, client)
                i += n
                continue
            request, effect = change(i, model)
            reply = client.call(request)
            assert reply and reply["ok"], (i, request, reply)
            effect(model)
            i += 1
        client.close()
    assert loop.failures == [], loop.failures[:5]
    assert set(loop.bodies) == {"RS1", "RS2"}
    assert reals_listed(lab) == model
    assert lab.adm("-S", "-n").stdout == save_text(model)

    # The dataplane killed in the middle of more changes: they are accepted while it is gone,
    # and the restarted dataplane gets the whole configuration back.
    def dp_step(i, client, request, effect):
        if i == 554:
            lab.stop_dataplane(signal.SIGKILL)
        if i == 574:
            lab.restart_dataplane()
        reply = client.call(request)
        assert reply and reply["ok"], (i, request, reply)
        effect(model)
        return client

    run_stream(lab, model, 504, 100, on_step=dp_step)
    gen = lab.status()["generation"]
    wait_until(lambda: lab.dataplane_status().get("generation") == gen, 20, "the dataplane to reach the generation")
    assert lab.adm("-S", "-n").stdout == save_text(model)
    # What the dataplane runs: the same services and real servers (its stats list them).
    listed = {r["address"] for s in lab.listing()["services"] for r in s["real_servers"]}
    assert listed == set(model)
    bodies = {lab.hosts["client"].curl(URL).strip() for _ in range(4)}
    assert bodies == {"RS1", "RS2"}
    print(f"kills (first change, acknowledged, applied of 8): {outcomes}")
