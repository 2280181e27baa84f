"""A real server for the labs: GET / answers "<name>\n" (like `echo RS1 > index.html`),
GET /client answers the client address the server sees (FULLNAT shows the local address),
GET /slow?ms=N answers after N ms (for connections held open across a change),
GET /stream?seed=S&bytes=N&ms=T sends stream_pattern.pattern(S, N) spread evenly over T ms
(long-lived connections across a failover; its SHA-256 in the X-Sha256 header).

An optional fourth argument names a status file for the HTTP_GET health checks: GET /health
answers with the status code the file holds and, after the code, the body the file holds
("500", "200", "200 another body"; the body defaults to "<name>\n"); no file: 200 "<name>\n".
"""
import hashlib
import socketserver
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from stream_pattern import pattern

address, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
status_file = sys.argv[4] if len(sys.argv) > 4 else None


def health_answer():
    try:
        with open(status_file) as f:
            code, _, body = f.read().strip().partition(" ")
        return int(code), (body + "\n" if body else name + "\n")
    except (OSError, ValueError):
        return 200, name + "\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        url = urlparse(self.path)
        status = 200
        if url.path == "/client":
            body = self.client_address[0] + "\n"
        elif url.path == "/slow":
            time.sleep(int(parse_qs(url.query).get("ms", ["100"])[0]) / 1000)
            body = name + "\n"
        elif url.path == "/health" and status_file:
            status, body = health_answer()
        elif url.path == "/stream":
            return self.stream(parse_qs(url.query))
        else:
            body = name + "\n"
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def stream(self, query):
        seed, size, ms = (int(query.get(k, [d])[0]) for k, d in (("seed", "0"), ("bytes", "100000"), ("ms", "10000")))
        data = pattern(seed, size)
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.send_header("X-Sha256", hashlib.sha256(data).hexdigest())
        self.end_headers()
        self.wfile.flush()
        steps = max(1, ms // 50)  # a write every 50 ms
        start = time.monotonic()
        for i in range(steps):
            self.wfile.write(data[size * i // steps:size * (i + 1) // steps])
            self.wfile.flush()
            time.sleep(max(0.0, start + (i + 1) * ms / 1000 / steps - time.monotonic()))

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 1024  # the multi-worker labs open hundreds of connections at once

    def server_bind(self):
        # HTTPServer.server_bind resolves the host name (getfqdn): seconds of DNS timeouts in a
        # namespace without a resolver. The name is never used here.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = address, port


Server((address, port), Handler).serve_forever()
