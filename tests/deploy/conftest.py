"""The real gunicorn of `make run`, started with config/supervisor.py's web command."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from config.supervisor import programs
from tests.conftest import ROOT, wait_until


def web_command(var_dir: Path, port: int = 8000) -> list[str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PORT", str(port))  # programs() binds to $PORT
        (web,) = [p for p in programs(var_dir) if p.name == "web"]
    return web.command


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class WebServer:
    url: str
    pid: int  # gunicorn's master


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory) -> Iterator[WebServer]:
    port = free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "web.log"
    command = web_command(tmp_path_factory.mktemp("var"), port)
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            return requests.get(f"{url}/api/nothing-here", timeout=10).status_code == 404
        except requests.RequestException:  # not listening yet, or still loading the app
            return False

    try:
        wait_until(up, timeout=120, what="gunicorn to answer")
        yield WebServer(url, process.pid)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
