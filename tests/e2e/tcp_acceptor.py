"""A TCP listener for the health-check scale lab: accepts every connection on ADDRESS:PORT
and closes it at once (what a TCP_CHECK needs from a real server: the handshake). One
thread, one selector; answers thousands of checker connections a second.

Usage: tcp_acceptor.py ADDRESS PORT"""
import selectors
import socket
import sys

address, port = sys.argv[1], int(sys.argv[2])
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind((address, port))
listener.listen(4096)
listener.setblocking(False)
sel = selectors.DefaultSelector()
sel.register(listener, selectors.EVENT_READ)
while True:
    for _ in sel.select():
        while True:
            try:
                conn, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break
            conn.close()
