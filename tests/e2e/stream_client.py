"""Long-lived downloads for the HA lab: COUNT concurrent GET /stream requests to each of the
given ports of ADDRESS (name_server.py streams stream_pattern.pattern(seed, BYTES) over MS
milliseconds), each checked byte for byte.

    stream_client.py ADDRESS PORT[,PORT...] COUNT BYTES MS [MAX_SECONDS]

Prints "open PORT SEED LOCAL_PORT" (flushed) once a connection has its headers and the first
body bytes, and at the end one JSON line: a list of {"port", "seed", "local_port", "ok",
"received", "seconds", "max_pause" (the longest wait for data once the body had started,
in seconds), "error"}. Every connection ends within MAX_SECONDS (default 60)."""
import hashlib
import json
import socket
import sys
import threading
import time

from stream_pattern import pattern

address, ports, count, size, ms = sys.argv[1], [int(p) for p in sys.argv[2].split(",")], int(sys.argv[3]), \
    int(sys.argv[4]), int(sys.argv[5])
max_seconds = float(sys.argv[6]) if len(sys.argv) > 6 else 60.0
deadline = time.monotonic() + max_seconds
print_lock = threading.Lock()
results = []


def say(line):
    with print_lock:
        print(line, flush=True)


def download(port, seed):
    r = {"port": port, "seed": seed, "local_port": None, "ok": False, "received": 0, "seconds": None,
         "max_pause": 0.0, "error": None}
    start = time.monotonic()
    try:
        s = socket.create_connection((address, port), timeout=5)
        r["local_port"] = s.getsockname()[1]
        s.sendall(f"GET /stream?seed={seed}&bytes={size}&ms={ms} HTTP/1.0\r\nHost: {address}\r\n\r\n".encode())
        buf, announced, last = b"", False, None
        while True:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            chunk = s.recv(65536)
            now = time.monotonic()
            if announced:
                r["max_pause"] = max(r["max_pause"], round(now - last, 3))
            last = now
            if not chunk:
                break
            buf += chunk
            if not announced and b"\r\n\r\n" in buf and len(buf) > buf.index(b"\r\n\r\n") + 4:
                announced = True
                say(f"open {port} {seed} {r['local_port']}")
        s.close()
        head, _, body = buf.partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:] if ": " in line)
        r["received"] = len(body)
        expected = pattern(seed, size)
        if not head.startswith(b"HTTP/1.0 200"):
            r["error"] = f"status line {head.splitlines()[0] if head else b''!r}"
        elif body != expected:
            first = next((i for i, (a, b) in enumerate(zip(body, expected)) if a != b), min(len(body), size))
            r["error"] = f"{len(body)} of {size} bytes, first difference at byte {first}"
        elif headers.get("X-Sha256") != hashlib.sha256(body).hexdigest():
            r["error"] = "X-Sha256 differs"
        else:
            r["ok"] = True
    except OSError as e:
        r["error"] = f"{type(e).__name__}: {e}"
    r["seconds"] = round(time.monotonic() - start, 3)
    with print_lock:
        results.append(r)


threads = [threading.Thread(target=download, args=(port, 1000 * port + i)) for port in ports for i in range(count)]
for t in threads:
    t.start()
for t in threads:
    t.join(max(0.1, deadline + 10 - time.monotonic()))
print(json.dumps(sorted(results, key=lambda r: (r["port"], r["seed"]))), flush=True)
