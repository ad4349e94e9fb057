"""A TCP proxy on loopback that adds latency: every byte that crosses it in either direction is
held `delay` seconds, and a new connection pays one round trip before its first byte reaches the
server (the TCP handshake a real network charges). Bandwidth is not limited. It counts
connections and the client's request lines, so a benchmark can tell requests from round trips (plain HTTP only: TLS hides the requests).

    proxy = LatencyProxy(("127.0.0.1", upstream_port), delay=0.025).start()
    ... talk to proxy.port ...
    proxy.stop()
"""

from __future__ import annotations

import asyncio
import re
import threading
import time

_REQUEST_LINE = re.compile(rb"(GET|HEAD|POST|PUT|PATCH|DELETE) (/\S*) HTTP/1\.[01]\r\n")


class LatencyProxy:
    def __init__(self, upstream: tuple[str, int], delay: float, address: str = "127.0.0.1"):
        self.upstream = upstream
        self.delay = delay
        self.address = address
        self.port = 0
        self.connections = 0
        self.requests: list[tuple[str, str]] = []  # (method, path) as the client sent them
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()

    # ---- control (any thread) ------------------------------------------------------------------

    def start(self) -> "LatencyProxy":
        self._thread = threading.Thread(target=self._run, name="latency-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("latency proxy did not start within 10 s")
        return self

    def stop(self) -> None:
        if self._loop and self._server:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(10)

    async def _shutdown(self) -> None:
        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def reset_counts(self) -> None:
        with self._lock:
            self.connections = 0
            self.requests = []

    def counts(self) -> tuple[int, list[tuple[str, str]]]:
        with self._lock:
            return self.connections, list(self.requests)

    # ---- the event loop ------------------------------------------------------------------------

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._accept, self.address, 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    async def _accept(self, client_reader, client_writer) -> None:
        with self._lock:
            self.connections += 1
        try:
            server_reader, server_writer = await asyncio.wait_for(
                asyncio.open_connection(*self.upstream), 10)
        except (OSError, asyncio.TimeoutError):
            client_writer.close()
            return
        # SYN, SYN-ACK: the client's first byte leaves one round trip after it connected.
        handshake_done = time.monotonic() + 2 * self.delay
        await asyncio.gather(
            self._pump(client_reader, server_writer, handshake_done, inspect=True),
            self._pump(server_reader, client_writer, 0.0, inspect=False),
            return_exceptions=True)
        for writer in (client_writer, server_writer):
            try:
                writer.close()
            except Exception:
                pass

    async def _pump(self, reader, writer, not_before: float, inspect: bool) -> None:
        queue: asyncio.Queue = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, chunk = await queue.get()
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if chunk is None:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(chunk)
                await writer.drain()

        delivery = asyncio.ensure_future(deliver())
        tail = b""
        try:
            while True:
                chunk = await reader.read(256 * 1024)
                due = max(time.monotonic() + self.delay, not_before)
                if not chunk:
                    queue.put_nowait((due, None))
                    break
                if inspect:
                    window = tail + chunk
                    for match in _REQUEST_LINE.finditer(window):
                        if match.end() > len(tail):
                            with self._lock:
                                self.requests.append((match.group(1).decode(),
                                                      match.group(2).decode("latin-1")))
                    tail = window[-64:]
                queue.put_nowait((due, chunk))
            await delivery
        except (ConnectionError, OSError):
            delivery.cancel()
