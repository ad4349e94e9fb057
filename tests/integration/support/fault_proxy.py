"""A loopback HTTP proxy in front of a real registry that injects faults, or slows uploads down.

It stands where the registry would (clients talk to it as to the registry itself; the Host
header goes through unchanged, so the registry's upload Locations point back at the proxy). Each
request is read whole, then, as a seeded random draw decides (`rates`, fixed `seed`):

    reset_before  the connection is reset and nothing reaches the registry
    reset_after   the request reaches the registry, its answer is lost in a reset
    stall         a pause of `stall_seconds` (keep it under the client's timeouts), then forwarded
    500/502/503   answered by the proxy, nothing reaches the registry
    429           answered by the proxy with Retry-After: 1
    truncate      forwarded; the answer's headers promise the whole body, half of it comes

With `throttle` (bytes per second) request bodies are read that slowly, which holds an upload
up for as long as a test needs to interrupt it. Every request is recorded: method, path,
the fault, the registry's status (0 when it never got there) and whether the body arrived whole.
All waits are bounded; the proxy binds 127.0.0.1 on a free port.
"""

from __future__ import annotations

import http.client
import random
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from .fixture_server import LoopbackServer, read_chunked, reset_connection

FAULTS = ("reset_before", "reset_after", "stall", "500", "502", "503", "429", "truncate")
MAX_BODY = 256 << 20
SOCKET_TIMEOUT = 30.0
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "trailer", "upgrade",
               "proxy-connection", "content-length"}


@dataclass
class Seen:
    method: str
    path: str  # with the query
    fault: str  # "" when forwarded untouched
    status: int  # the registry's answer; 0 when the request never reached it
    complete: bool  # the request body arrived whole
    connection: int = 0  # the client's port: one per connection


class FaultProxy(LoopbackServer):
    def __init__(self, upstream: str, *, seed: int = 1, rates: dict[str, float] | None = None,
                 stall_seconds: float = 2.0, throttle: int = 0):
        super().__init__()
        self.upstream = upstream  # "127.0.0.1:PORT" of the registry
        self.rates = dict(rates or {})
        unknown = set(self.rates) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}")
        self.stall_seconds = min(stall_seconds, 20.0)
        self.throttle = throttle
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._seen: list[Seen] = []

    @property
    def seen(self) -> list[Seen]:
        with self._lock:
            return list(self._seen)

    def _draw(self, method: str) -> str:
        with self._lock:
            roll = self._random.random()
        for fault in FAULTS:
            rate = self.rates.get(fault, 0.0)
            if roll < rate:
                # A HEAD answer has no body to truncate.
                return "" if fault == "truncate" and method == "HEAD" else fault
            roll -= rate
        return ""

    def _record(self, seen: Seen) -> None:
        with self._lock:
            self._seen.append(seen)

    def start(self) -> "FaultProxy":
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = SOCKET_TIMEOUT

            def log_message(self, *args) -> None:
                pass

            def _read_body(self) -> tuple[bytes, bool]:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    return read_chunked(self.rfile, MAX_BODY)
                length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
                parts, got = [], 0
                started = time.monotonic()
                while got < length:
                    piece = self.rfile.read1(min(65536, length - got))
                    if not piece:
                        break
                    parts.append(piece)
                    got += len(piece)
                    if proxy.throttle:
                        ahead = got / proxy.throttle - (time.monotonic() - started)
                        if ahead > 0:
                            time.sleep(min(ahead, 5.0))
                return b"".join(parts), got == length

            def _reset(self) -> None:
                reset_connection(self)

            def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes,
                        truncate: bool = False) -> None:
                # A HEAD answer keeps the registry's Content-Length (the blob's size).
                self.send_response_only(status)
                length = str(len(body))
                for name, value in headers:
                    if name == "X-Upstream-Content-Length":
                        length = value
                    else:
                        self.send_header(name, value)
                self.send_header("Content-Length", length)
                self.end_headers()
                if self.command == "HEAD":
                    return
                if truncate:
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self._reset()
                    return
                self.wfile.write(body)

            def _seen(self, fault: str, status: int, complete: bool = True) -> None:
                proxy._record(Seen(self.command, self.path, fault, status, complete,
                                   self.client_address[1]))

            def _inject(self, fault: str, body: bytes) -> None:
                """Plays `fault` on a request whose body arrived whole: answers 5xx/429 or
                resets itself, or stalls and forwards it, and records what happened."""
                if fault == "reset_before":
                    self._seen(fault, 0)
                    self._reset()
                    return
                if fault in ("500", "502", "503", "429"):
                    self._seen(fault, 0)
                    headers = [("Retry-After", "1")] if fault == "429" else []
                    self._answer(int(fault), headers, b"")
                    return
                if fault == "stall":
                    time.sleep(proxy.stall_seconds)
                try:
                    status, headers, answer = self._forward(body)
                except OSError:
                    self._seen(fault, 0)
                    self._reset()
                    return
                self._seen(fault, status)
                if fault == "reset_after":
                    self._reset()
                    return
                self._answer(status, headers, answer, truncate=fault == "truncate")

            def _handle(self) -> None:
                body, complete = self._read_body()
                if not complete:
                    self._seen("", 0, complete=False)
                    if self.command == "HEAD":
                        self._reset()
                    else:
                        self.close_connection = True
                    return
                self._inject(proxy._draw(self.command), body)

            def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
                host, _, port = proxy.upstream.rpartition(":")
                connection = http.client.HTTPConnection(host, int(port), timeout=SOCKET_TIMEOUT)
                try:
                    headers = {name: value for name, value in self.headers.items()
                               if name.lower() not in _HOP_BY_HOP}
                    if body or self.command in ("POST", "PUT", "PATCH"):
                        headers["Content-Length"] = str(len(body))
                    connection.request(self.command, self.path, body=body or None,
                                       headers=headers)
                    response = connection.getresponse()
                    answer = response.read()
                    kept = [(name, value) for name, value in response.getheaders()
                            if name.lower() not in _HOP_BY_HOP]
                    if self.command == "HEAD":
                        length = response.getheader("Content-Length")
                        if length is not None:
                            kept.append(("X-Upstream-Content-Length", length))
                    return response.status, kept, answer
                finally:
                    connection.close()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        self._serve(Handler)
        return self

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
