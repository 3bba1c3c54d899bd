"""A real webhook receiver for tests: http.server in a thread on 127.0.0.1.

It verifies every request's Standard Webhooks signature on the receiving side,
as a client of the API would, and answers with scripted status codes.
Also a fake DNS table, so tests can give host names any address they need.
Tests ask for them as the fixtures `receiver` and `fake_dns` (tests/api/conftest.py).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from enhancer.notifications.signing import WebhookVerificationError, verify
from tests.conftest import wait_until


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    payload: Any  # the verified JSON, or None when verification failed
    verification_error: str | None


@dataclass
class Receiver:
    """Collects requests; answers `statuses` in turn (the last one repeats)."""

    secrets: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=lambda: [200])
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def next_status(self) -> int:
        with self._lock:
            index = min(len(self.received), len(self.statuses) - 1)
            return self.statuses[index]

    def record(self, item: Received) -> None:
        with self._lock:
            self.received.append(item)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """The requests received, once there are at least `count`."""

        def arrived() -> list[Received] | None:
            with self._lock:
                return list(self.received) if len(self.received) >= count else None

        return wait_until(arrived, timeout=timeout, what=f"{count} webhooks", every=0.05)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            status = receiver.next_status()
            payload, error = None, None
            try:
                payload = verify(secret=receiver.secrets, headers=headers, body=body)
            except WebhookVerificationError as e:
                error = str(e)
            if receiver.delay:
                time.sleep(receiver.delay)
            receiver.record(Received(self.path, headers, body, payload, error))
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "/redirected")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test output clean

    return Handler


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    """A receiver listening on a free port of 127.0.0.1 until the block ends."""
    box = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(box))
    server.daemon_threads = True
    box.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box
    finally:
        server.shutdown()
        server.server_close()


class FakeDns:
    """Names in `table` resolve to the given addresses; any other name as usual."""

    def __init__(self) -> None:
        self.table: dict[str, Sequence[str]] = {}
        self._real = socket.getaddrinfo

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in self.table:
            return self._real(host, port, *args, **kwargs)
        results = []
        for address in self.table[name]:
            if ":" in address:
                results.append(
                    (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, int(port), 0, 0))
                )
            else:
                results.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port))))
        if not results:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return results
