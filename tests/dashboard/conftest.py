"""Fixtures of the dashboard's tests: alice's team Alpha and her membership in it,
her teammate dave, bob in team Beta (the people are described in tests/people.py;
their API applications `alice` and `bob` are in tests/conftest.py), a live API
connection, the jobs the views enqueue, and Debian's Chromium for browser tests."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.test import Client

from config.celery import app as celery_app
from dashboard.models import Membership, Team
from enhancer.processing.enqueue import PROCESS_ENHANCE
from tests.dashboard.browser import CHROMIUM
from tests.dashboard.factories import member_of, team_for


@pytest.fixture
def team(alice, settings) -> Team:
    # Hashing a password the production way takes most of a second per user on
    # a busy machine; these tests log in by the hundred.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return team_for(alice, base_url="http://127.0.0.1:9", name="Alpha")


@pytest.fixture
def media_root(settings, tmp_path):
    """Stored files go to the test's own folder, so a test can see what it left behind."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def member(team, settings, tmp_path) -> Membership:
    """Alice, in team Alpha."""
    settings.MEDIA_ROOT = tmp_path / "media"  # the same folder as `media_root`
    return member_of(team, "alice")


@pytest.fixture
def member_client(client, member) -> Client:
    """A client logged in as alice."""
    client.force_login(member.user)
    return client


@pytest.fixture
def teammate(member) -> Membership:
    """Dave, alice's teammate in team Alpha."""
    return member_of(member.team, "dave")


@pytest.fixture
def outsider(bob) -> Membership:
    """Bob, in another team of another application."""
    return member_of(team_for(bob, base_url="http://127.0.0.1:9", name="Beta"), "bob")


@pytest.fixture
def submitted(monkeypatch) -> list[tuple[object, ...]]:
    """Job submissions the views enqueued, instead of sending them to a broker."""
    calls: list[tuple[object, ...]] = []
    monkeypatch.setattr("dashboard.enqueue.job_submit", lambda *args, **kwargs: calls.append(args))
    return calls


@pytest.fixture
def live_api_membership(alice, live_server, settings, tmp_path) -> Membership:
    """A member of a team whose connection is the live server's API, media under
    tmp_path, and the API's webhooks aimed at the live server's receiver."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DASHBOARD_PUBLIC_URL = live_server.url
    return member_of(team_for(alice, base_url=live_server.url))


@pytest.fixture
def enhancements_sent(monkeypatch) -> list[str]:
    """The processes the API sends to its `enhance` queue, recorded instead of sent:
    no image needs enhancing, and no worker of the run should take them."""
    sent: list[str] = []
    send_task = celery_app.send_task

    def record_enhancements(name, args=None, *rest, **options):
        if name != PROCESS_ENHANCE:
            return send_task(name, args, *rest, **options)  # the dashboard's own tasks
        sent.append(args[0])
        return None

    monkeypatch.setattr(celery_app, "send_task", record_enhancements)
    return sent


@pytest.fixture
def chromium(monkeypatch) -> Iterator[object]:
    """Debian's Chromium, launched by Playwright (tests/dashboard/browser.py)."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: apt-get install chromium"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls
    # of the test between browser steps are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()
