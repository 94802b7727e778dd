"""HTTPS front of the DSM model: loopback only, a lab-CA certificate, the model's faults applied per
request (429/503 bursts, slow answers); ``down`` is handled by the part (``part.py``) closing the listener."""
import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def make_handler(model):
    class DsmHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "DeepSecurityManager-lab"

        def log_message(self, *args):
            pass

        def _reply(self, status, headers, document):
            body = b"" if document is None else json.dumps(document).encode("utf-8")
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            if body:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def _serve(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            slow = int(model.faults.get("slow_ms") or 0)
            if slow:
                time.sleep(slow / 1000.0)
            fault = model.take_fault()
            if fault == "down":
                self.close_connection = True
                self.connection.close()
                return
            if fault:
                status, message, headers = fault
                return self._reply(status, headers, {"message": message})
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            status, headers, document = model.handle(self.command, url.path, query, dict(self.headers.items()), body)
            return self._reply(status, headers, document)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

    return DsmHandler


class DsmServer(object):
    def __init__(self, model, address, port, cert, key):
        self.model = model
        self.address = address
        self.port = port
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self._server = None
        self._thread = None

    def start(self):
        if self._server is not None:
            return
        server = ThreadingHTTPServer((self.address, self.port), make_handler(self.model))
        server.daemon_threads = True
        server.socket = self.context.wrap_socket(server.socket, server_side=True)
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="lab-dsm", daemon=True)
        self._thread.start()

    def stop(self):
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    @property
    def running(self):
        return self._server is not None

    @property
    def url(self):
        return "https://%s:%d/api" % (self.address, self.port)
