"""pytest plugin (loaded with `-p tests.embedded_broker`): the run's own embedded Redis.

Without REDIS_URL the settings point Celery and the cache at the embedded
redis-server's socket. The test run starts its own server, on its own socket,
before Django reads its settings, so that a `make run` on the same checkout
never consumes the tests' tasks; worker processes started by the tests inherit
EMBEDDED_REDIS_SOCKET and meet the same server.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Generator
from pathlib import Path

import pytest

from tests.redis_server import RedisServer

server_key = pytest.StashKey[RedisServer]()


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> Generator[None, None, None]:
    # A wrapper runs before every plain implementation, pytest-django's
    # django.setup() included.
    if not os.environ.get("REDIS_URL"):
        # Under /tmp: a unix socket path must stay short.
        server = RedisServer(Path(tempfile.mkdtemp(prefix="fe-test-redis-")))
        server.start()
        os.environ["EMBEDDED_REDIS_SOCKET"] = str(server.sock)
        early_config.stash[server_key] = server
    return (yield)


def pytest_unconfigure(config: pytest.Config) -> None:
    server = config.stash.get(server_key, None)
    if server is not None:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)
