"""Fixtures for the dashboard's page tests: a team, a logged-in member, jobs.

Import the fixtures a test file uses: `from tests.dashboard.pages import member, ...`.
"""

from __future__ import annotations

import pytest
from django.test import Client

from dashboard.models import Membership, Team
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
    settings.MEDIA_ROOT = tmp_path / "media"  # the same folder as `media_root`
    return member_of(team, "alice")


@pytest.fixture
def member_client(client, member) -> Client:
    client.force_login(member.user)
    return client


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
