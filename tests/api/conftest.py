"""Fixtures of the API's tests: media storage in a temporary folder, a webhook
receiver, a fake DNS table, and the task messages the code sends. alice's and
bob's applications and their headers are in tests/conftest.py."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from config.celery import app as celery_app
from tests.api.webhook_receiver import FakeDns, Receiver, running_receiver


@pytest.fixture
def media(settings, tmp_path) -> Path:
    """Media storage in a temporary folder (for tests without a worker process)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1 that verifies every signature it gets."""
    with running_receiver() as box:
        yield box


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    """hooks.example.com resolves to a public address, no-such-host.example.com to none."""
    dns = FakeDns()
    dns.table["hooks.example.com"] = ["93.184.215.14"]
    dns.table["no-such-host.example.com"] = []
    monkeypatch.setattr(socket, "getaddrinfo", dns)
    return dns


@dataclass(frozen=True)
class Sent:
    """A task message the code asked the broker to take."""

    name: str  # the task's name, e.g. "enhancer.process_enhance"
    args: list[Any]
    queue: str  # where config/celery.py's task_routes send it
    countdown: float | None = None


@pytest.fixture
def enqueued(monkeypatch) -> list[Sent]:
    """Every message sent through the enqueue modules, recorded instead of sent."""
    sent: list[Sent] = []

    def send_task(name, args=None, kwargs=None, countdown=None, **options):
        route = celery_app.amqp.router.route(options, name, args, kwargs)
        sent.append(Sent(name, list(args or []), route["queue"].name, countdown))

    monkeypatch.setattr(celery_app, "send_task", send_task)
    return sent


@pytest.fixture
def broker_down(monkeypatch) -> None:
    """The broker refuses every message, as when it is unreachable."""

    def send_task(name, *args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(celery_app, "send_task", send_task)
