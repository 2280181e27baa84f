"""A real server for the labs: GET / answers "<name>\n" (like `echo RS1 > index.html`),
GET /client answers the client address the server sees (FULLNAT shows the local address),
GET /slow?ms=N answers after N ms (for connections held open across a change)."""
import socketserver
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

address, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/client":
            body = self.client_address[0] + "\n"
        elif url.path == "/slow":
            time.sleep(int(parse_qs(url.query).get("ms", ["100"])[0]) / 1000)
            body = name + "\n"
        else:
            body = name + "\n"
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

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
