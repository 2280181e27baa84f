"""A stand-in for dplb-dataplane's socket (docs/api.md "Dataplane socket requests").

It serves `apply`, `apply-batch` (always answered with `resync`), `stats`, `status`, `connections` and
`passive-failures` from threads inside the test process,
records every request, and can be told to refuse applies or to hang up on them, so the tests
can check what dplb-control pushes and how it reacts. `stop()` closes everything like a dataplane
that exited; `start()` again is a restarted dataplane with no configuration.
"""
import json
import os
import socket
import threading
import time


class FakeDataplane:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.requests = []          # every request received, in order, across connections
        self.connections = 0        # how many times dplb-control connected
        self.reject = None          # an error string: refuse applies with it
        self.hang_up_on_apply = False
        self.counters = {}          # service_key(s) -> {"conns": ..., "active_conns": ..., "persistent_conns": ...}
        self.rates = {}             # service_key(s) -> {"cps": ..., "inpps": ...}: the dataplane's estimates
        self.connection_table = []  # the entries `connections` answers with, as the dataplane sends them
        self.passive_failures = []  # the `reals` `passive-failures` answers with, as the dataplane sends them
        self.drops = {"no_service": 0, "bad_checksum": 0}
        self.generation = 0
        self.config = None
        self._listener = None
        self._conns = []
        self._threads = []

    # -- lifecycle -------------------------------------------------------------------
    def start(self):
        self.generation = 0
        self.config = None
        self._stopping = False
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(self.path)
        s.listen(8)
        self._listener = s
        t = threading.Thread(target=self._accept_loop, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self):
        self._stopping = True
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        with self.lock:
            conns, self._conns = self._conns, []
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()
        for t in self._threads:
            t.join(timeout=5)
        self._threads = []
        if os.path.exists(self.path):
            os.unlink(self.path)

    # -- what the tests look at -------------------------------------------------------
    def applies(self):
        with self.lock:
            return [r for r in self.requests if r.get("cmd") == "apply"]

    def wait_for(self, predicate, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.02)
        return predicate()

    def commands(self, cmd):
        with self.lock:
            return [r for r in self.requests if r.get("cmd") == cmd]

    def wait_for_applies(self, count, timeout=10.0):
        assert self.wait_for(lambda: len(self.applies()) >= count, timeout), \
            f"expected {count} applies, got {len(self.applies())}: {self.applies()}"
        return self.applies()

    # -- serving ----------------------------------------------------------------------
    def _accept_loop(self):
        while not self._stopping:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                self._conns.append(conn)
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, conn):
        f = conn.makefile("rb")
        try:
            for line in f:
                request = json.loads(line)
                with self.lock:
                    self.requests.append(request)
                reply = self._answer(request)
                if reply is None:
                    conn.shutdown(socket.SHUT_RDWR)
                    return
                conn.sendall(json.dumps(reply, separators=(",", ":")).encode() + b"\n")
        except (OSError, ValueError):
            pass
        finally:
            f.close()

    def _answer(self, request):
        cmd = request.get("cmd")
        if cmd == "apply":
            if self.hang_up_on_apply:
                return None
            if self.reject:
                return {"ok": False, "error": self.reject, "field": "config.services[0]"}
            self.generation = request["generation"]
            self.config = request["config"]
            return {"ok": True, "generation": self.generation}
        if cmd == "apply-batch":
            # The fake keeps no configuration model to apply typed changes to: it answers as a
            # dataplane that cannot continue from `base`, so dplb-control pushes the whole
            # configuration (`apply`) after every change, which is what the tests look at.
            if self.hang_up_on_apply:
                return None
            if self.reject:
                return {"ok": False, "error": self.reject, "field": "changes[0]"}
            return {"ok": False, "resync": True, "error": "the fake dataplane applies whole configurations only"}
        if cmd == "stats":
            services = []
            for s in (self.config or {}).get("services", []):
                c = self.counters.get(service_key(s), {})
                counters = {k: c.get(k, 0) for k in ("conns", "inpkts", "outpkts", "inbytes", "outbytes")}
                entry = {"fwmark": s["fwmark"]} if "fwmark" in s else {
                    "protocol": s["protocol"], "address": s["address"], "port": s["port"]}
                entry["stats"] = counters
                entry["rates"] = dict(self.rates.get(service_key(s), {}))
                entry["real_servers"] = [{
                    "address": r["address"], "port": r["port"],
                    "active_conns": c.get("active_conns", 0), "inactive_conns": 0,
                    "persistent_conns": c.get("persistent_conns", 0),
                    "stats": counters,
                } for r in s.get("real_servers", [])]
                services.append(entry)
            return {"ok": True, "generation": self.generation, "services": services}
        if cmd == "zero-rates":
            # The dataplane estimates the rates (ipvsadm -Z restarts them there).
            if "service" in request:
                self.rates.pop(service_key(request["service"]), None)
            else:
                self.rates.clear()
            return {"ok": True}
        if cmd == "connections":
            limit = request.get("limit", len(self.connection_table))
            return {"ok": True, "truncated": len(self.connection_table) > limit,
                    "connections": self.connection_table[:limit]}
        if cmd == "passive-failures":
            return {"ok": True, "reals": list(self.passive_failures)}
        if cmd == "status":
            return {"ok": True, "generation": self.generation,
                    "workers": [{"lcore": 1, "rx_packets": 10, "tx_packets": 9}],
                    "ports": [{"name": "lan", "rx_packets": 10}],
                    "drops": dict(self.drops)}
        return {"ok": False, "error": f"unknown command '{cmd}'"}


def service_key(s):
    """How the fake files counters: ("fwmark", mark) or (protocol, address, port)."""
    if "fwmark" in s:
        return ("fwmark", s["fwmark"])
    return (s["protocol"], s["address"], s["port"])
