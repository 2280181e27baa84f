"""A UDP probe stream for failover measurements: one datagram every INTERVAL_MS to
ADDRESS:PORT from one socket (one flow) for SECONDS, counting the answers.

    udp_probe.py ADDRESS PORT SECONDS [INTERVAL_MS]

Prints "first answer" (flushed) when the first answer arrives, and at the end one JSON line:
{"sent", "answered", "max_gap_ms" (the longest time without an answer, between two answers),
"gap_start" (seconds from the start of the stream to the last answer before that gap),
"last_answer" (seconds from the start)}."""
import json
import select
import socket
import sys
import time

address, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
interval = (float(sys.argv[4]) if len(sys.argv) > 4 else 1.0) / 1000
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
start = time.monotonic()
sent, answers = 0, []
next_send = start
while True:
    now = time.monotonic()
    if now - start >= seconds:
        break
    if now >= next_send:
        try:
            s.sendto(b"probe %d" % sent, (address, port))
        except OSError:
            pass  # no route or neighbour for a moment: counted as unanswered
        sent += 1
        next_send += interval
    ready, _, _ = select.select([s], [], [], max(0.0, next_send - time.monotonic()))
    while ready:
        try:
            s.recv(2048)
        except OSError:  # nothing more to read (or an ICMP error): not an answer
            break
        if not answers:
            print("first answer", flush=True)
        answers.append(time.monotonic() - start)
# Answers still in flight when the stream stops.
deadline = time.monotonic() + 0.5
while time.monotonic() < deadline:
    if select.select([s], [], [], 0.05)[0]:
        try:
            s.recv(2048)
        except OSError:
            continue
        answers.append(time.monotonic() - start)
gaps = [(b - a, a) for a, b in zip(answers, answers[1:])]
gap, gap_start = max(gaps) if gaps else (None, None)
print(json.dumps({"sent": sent, "answered": len(answers),
                  "max_gap_ms": round(gap * 1000, 1) if gap is not None else None,
                  "gap_start": round(gap_start, 3) if gap_start is not None else None,
                  "last_answer": round(answers[-1], 3) if answers else None}), flush=True)
