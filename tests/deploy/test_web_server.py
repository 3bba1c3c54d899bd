"""How `make run`'s gunicorn takes connections: on both workers, on a port of its own."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
from urllib.parse import urlsplit

import psutil

from tests.conftest import ROOT
from tests.deploy.compose import command_line, compose
from tests.deploy.conftest import free_port

CLIENTS = 16


def _listening_sockets(worker: psutil.Process, port: int) -> set[str]:
    """The inodes of the sockets `worker` listens on `port` with."""
    return {
        os.readlink(f"/proc/{worker.pid}/fd/{c.fd}")
        for c in worker.net_connections("tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port
    }


def test_each_worker_takes_connections_on_a_socket_of_its_own(gunicorn):
    """On one listening socket shared by the workers, a worker could take every
    connection of a burst and leave a core idle (1 run in 12 of a 16-client
    load, docs/performance.md). With a socket per worker (--reuse-port) the
    kernel spreads new connections between them, whoever is busy."""
    port = urlsplit(gunicorn.url).port
    workers = psutil.Process(gunicorn.pid).children()
    clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(CLIENTS)]
    try:
        for client in clients:  # all connected first, as a load of clients arrives
            client.connect()
        for client in clients:  # kept alive: each stays with the worker that accepted it
            client.request("GET", "/api/nothing-here")
            assert client.getresponse().read()
        held = {
            worker.pid: sum(
                1
                for c in worker.net_connections("tcp")
                if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port
            )
            for worker in workers
        }
    finally:
        for client in clients:
            client.close()
    sockets = [_listening_sockets(worker, port) for worker in workers]

    assert len(workers) == 2
    assert all(len(own) == 1 for own in sockets), sockets
    assert sockets[0] != sockets[1], "the workers share one listening socket"
    assert sum(held.values()) == CLIENTS, held
    assert all(held.values()), f"a worker took no connection: {held}"


def test_compose_gives_each_worker_its_socket_too():
    assert "--reuse-port" in command_line(compose()["services"]["web"]).split()


def test_make_run_refuses_a_port_another_server_listens_on(tmp_path):
    """bin/run checks before it starts anything (the demo logins would wait for the
    other server and print this one's logins), and the supervisor checks again."""
    port = free_port()
    with socket.socket() as other:
        other.bind(("127.0.0.1", port))
        other.listen()
        refusals = [
            subprocess.run(
                [sys.executable, "-m", "config.supervisor", *flags],
                cwd=ROOT,
                env={**os.environ, "PORT": str(port), "VAR_DIR": str(tmp_path)},
                capture_output=True,
                text=True,
                timeout=60,
            )
            for flags in (["--check-port"], [])
        ]

    for refused in refusals:
        assert refused.returncode != 0
        assert f"Port {port} is in use" in refused.stderr
        assert f"PORT={port + 1} make run" in refused.stderr
    assert not (tmp_path / "run").exists()  # nothing started


def test_a_free_port_passes_the_check(tmp_path):
    checked = subprocess.run(
        [sys.executable, "-m", "config.supervisor", "--check-port"],
        cwd=ROOT,
        env={**os.environ, "PORT": str(free_port()), "VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert checked.returncode == 0, checked.stderr
