"""UDP for the labs, both ends.

    udp_echo.py serve ADDRESS NAME PORT [PORT ...]
        answers every datagram on each port with "NAME PORT PEER_ADDRESS" (the port it came
        to and the source address it came from)
    udp_echo.py ask ADDRESS PORT COUNT
        sends COUNT datagrams to ADDRESS:PORT, each from a new socket (a new source port, so a
        new flow for the load balancer), waits up to 2 s for each answer and prints one JSON
        list: the answers, or null for each datagram left unanswered.
"""
import json
import select
import socket
import sys


def serve(address, name, ports):
    socks = []
    for p in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((address, p))
        socks.append((s, p))
    by_fd = {s.fileno(): (s, p) for s, p in socks}
    while True:
        ready, _, _ = select.select([s for s, _ in socks], [], [])
        for r in ready:
            s, p = by_fd[r.fileno()]
            data, peer = s.recvfrom(2048)
            s.sendto(f"{name} {p} {peer[0]}".encode(), peer)


def ask(address, port, count):
    answers = []
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2.0)
        try:
            s.sendto(f"hello {i}".encode(), (address, port))
            answers.append(s.recvfrom(2048)[0].decode())
        except socket.timeout:
            answers.append(None)
        finally:
            s.close()
    print(json.dumps(answers))


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3], [int(p) for p in sys.argv[4:]])
    else:
        ask(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
