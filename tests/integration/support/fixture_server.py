"""A small scripted HTTP server for what no real registry does on demand: hostile headers,
redirect loops, stalls, trickles, resets, huge bodies, faults in the middle of an upload.

It binds 127.0.0.1 on a free port, records every request (method, path, query, headers,
body), and answers through a `route(request) -> Reply` function the test supplies. Every
wait is bounded: sockets time out, stalls and trickles have a cap, the server stops at teardown.
"""

from __future__ import annotations

import socket
import socketserver
import ssl
import struct
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

MAX_BODY = 64 << 20  # the most a request body may carry here
SOCKET_TIMEOUT = 20.0


def read_chunked(rfile, limit: int) -> tuple[bytes, bool]:
    """A chunked request body, at most about `limit` bytes; True when it ended properly."""
    data = b""
    while len(data) <= limit:
        line = rfile.readline()
        if not line:
            return data, False
        size = int(line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            rfile.readline()
            return data, True
        data += rfile.read(size)
        rfile.readline()
    return data, False


def reset_connection(handler: BaseHTTPRequestHandler) -> None:
    """Ends the handler's connection with a TCP reset (SO_LINGER 0) instead of an answer."""
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.close_connection = True


class LoopbackServer:
    """The accept loop shared by the fixture servers: a ThreadingHTTPServer on a loopback
    address (127.0.0.1 unless named) and a free port, served from a daemon thread until stop()
    (which waits at most 5 s for it). With `tls` each connection's handshake happens in its
    handler thread, so a client that stalls it cannot hold up the others."""

    def __init__(self) -> None:
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._httpd, "server not started"
        return self._httpd.server_address[1]

    @property
    def hostport(self) -> str:
        assert self._httpd, "server not started"
        return f"{self._httpd.server_address[0]}:{self.port}"

    def _serve(self, handler: type[socketserver.BaseRequestHandler],
               tls: tuple[str, str] | None = None,
               address: tuple[str, int] = ("127.0.0.1", 0)) -> None:
        self._httpd = ThreadingHTTPServer(address, handler)
        self._httpd.daemon_threads = True
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True,
                                                     do_handshake_on_connect=False)
        # A short poll interval: stop() waits for at most one of them.
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread:
            self._thread.join(timeout=5)
            self._thread = None


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes
    port: int  # the server port that received it
    complete: bool = True  # False when the connection ended before the whole body arrived
    arrived: float = 0.0  # time.monotonic() when its request line was read


@dataclass
class Reply:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    stall: float = 0.0  # seconds to wait before answering (capped at 30)
    trickle: float = 0.0  # seconds between body bytes (the whole reply is capped at 30 s)
    reset: bool = False  # close the connection without an answer


class FixtureServer(LoopbackServer):
    def __init__(self, route: Callable[[Request], Reply], tls: tuple[str, str] | None = None):
        super().__init__()
        self.route = route
        self.tls = tls
        self._lock = threading.Lock()
        self._requests: list[Request] = []

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.hostport}"

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    def start(self) -> "FixtureServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = SOCKET_TIMEOUT

            def log_message(self, *args) -> None:
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data, self._complete = read_chunked(self.rfile, MAX_BODY)
                    return data
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(min(length, MAX_BODY)) if length else b""
                self._complete = len(data) == min(length, MAX_BODY)
                return data

            def _handle(self) -> None:
                arrived = time.monotonic()
                parsed = urllib.parse.urlsplit(self.path)
                headers: dict[str, str] = {}
                for name, value in self.headers.items():
                    key = name.lower()
                    headers[key] = f"{headers[key]}, {value}" if key in headers else value
                self._complete = True
                body = self._body()
                request = Request(self.command, parsed.path,
                                  urllib.parse.parse_qs(parsed.query, keep_blank_values=True),
                                  headers, body, server.port, self._complete, arrived)
                with server._lock:
                    server._requests.append(request)
                reply = server.route(request)
                if reply.reset:
                    reset_connection(self)
                    return
                if reply.stall:
                    time.sleep(min(reply.stall, 30.0))
                self.send_response_only(reply.status)
                names = {n.lower() for n, _ in reply.headers}
                for name, value in reply.headers:
                    self.send_header(name, value)
                if "content-length" not in names:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command == "HEAD":
                    return
                if reply.trickle:
                    deadline = time.monotonic() + 30.0
                    for byte in reply.body:
                        if time.monotonic() > deadline:
                            break
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(reply.trickle)
                else:
                    self.wfile.write(reply.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        self._serve(Handler, self.tls)
        return self
