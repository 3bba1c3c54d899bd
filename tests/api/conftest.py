"""Applications with credentials, their request headers, and the messages sent, for API tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from config.celery import app as celery_app
from enhancer.auth.credentials import IssuedCredential, application_create
from enhancer.auth.tokens import token_pair_issue


def credential_headers(issued: IssuedCredential) -> dict[str, str]:
    """The headers AdCreative's documentation tells a client to send.

    Plain header names: they work with Django's test client (`headers=`) and
    with `requests` alike.
    """
    pair = token_pair_issue(credential=issued.credential)
    return {
        "Authorization": f"Bearer {pair.access_token}",
        "x-api-key": issued.api_key,
        "x-api-secret": issued.api_secret,
        "Accept": "application/json",
    }


@pytest.fixture
def alice(db) -> IssuedCredential:
    return application_create(name="Alice's application")


@pytest.fixture
def bob(db) -> IssuedCredential:
    return application_create(name="Bob's application")


@pytest.fixture
def alice_headers(alice) -> dict[str, str]:
    return credential_headers(alice)


@pytest.fixture
def bob_headers(bob) -> dict[str, str]:
    return credential_headers(bob)


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
