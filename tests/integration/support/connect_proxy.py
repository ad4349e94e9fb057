"""A forward proxy for CONNECT only, as corporate proxies are met: `HTTPS_PROXY=http://...`.

No real proxy (squid, tinyproxy) is among the test dependencies, and what the tests need is
small: which tunnels a client asked for, and a tunnel that works. Every target host is reached
on 127.0.0.1 (the name is kept in the record), so a test can use a name such as registry.test
without DNS. It binds 127.0.0.1 on a free port; every socket has a timeout, every tunnel ends
when either side closes, and stop() closes the listener.
"""

from __future__ import annotations

import select
import socket
import socketserver
import threading

from .fixture_server import LoopbackServer

SOCKET_TIMEOUT = 20.0
MAX_HEADER = 16 << 10


class ConnectProxy(LoopbackServer):
    def __init__(self):
        super().__init__()
        self.tunnels: list[str] = []  # "host:port" of every CONNECT, in order
        self.refused: list[str] = []  # request lines that were not CONNECT
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        return f"http://{self.hostport}"

    def start(self) -> "ConnectProxy":
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._handle(self.request)

        self._serve(Handler)
        return self

    def stop(self) -> None:
        self._stopping.set()
        super().stop()

    def _handle(self, client: socket.socket) -> None:
        client.settimeout(SOCKET_TIMEOUT)
        with client:
            head = b""
            while b"\r\n\r\n" not in head and len(head) < MAX_HEADER:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            parts = line.split()
            if len(parts) != 3 or parts[0] != "CONNECT":
                self.refused.append(line)
                client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            target = parts[1]
            self.tunnels.append(target)
            _, _, port = target.rpartition(":")
            try:
                upstream = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
            except (OSError, ValueError):
                client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                return
            with upstream:
                upstream.settimeout(SOCKET_TIMEOUT)
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                self._relay(client, upstream)

    def _relay(self, a: socket.socket, b: socket.socket) -> None:
        sockets = [a, b]
        while not self._stopping.is_set():
            readable, _, _ = select.select(sockets, [], [], SOCKET_TIMEOUT)
            if not readable:
                return  # idle for SOCKET_TIMEOUT: give up
            for source in readable:
                data = source.recv(65536)
                if not data:
                    return
                (b if source is a else a).sendall(data)
