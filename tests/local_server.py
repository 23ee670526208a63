"""The HTTP plumbing every fake shares: a threaded server on 127.0.0.1 at a free port, as a context manager."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, headers and body in one packet, no access log in the test output."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # otherwise headers and body go out 40 ms apart

    def log_message(self, *args):
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 resets connections when a load test bursts


class LocalServer:
    """Subclasses give `handler()` (a QuietHandler class) and may set `prefix` (a path such as /api/v3)."""

    prefix = ""

    def handler(self) -> type:
        raise NotImplementedError

    def __enter__(self):
        self._server = _Server(("127.0.0.1", 0), self.handler())
        threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.prefix}"
