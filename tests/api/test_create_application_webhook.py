"""python manage.py create_application NAME --webhook-url URL [--json]"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from enhancer.models import Application
from enhancer.notifications.models import ChannelType, NotificationChannel
from enhancer.notifications.services import application_has_active_channel
from enhancer.notifications.signing import sign_headers, verify

URL = "http://127.0.0.1:8000/webhooks/face-enhancer/1"


def _run(*args: str) -> str:
    out = StringIO()
    call_command("create_application", *args, stdout=out)
    return out.getvalue()


def test_json_carries_the_channel_and_its_signing_secret(db):
    created = json.loads(_run("Acme", "--webhook-url", URL, "--json").strip().splitlines()[-1])

    assert set(created) >= {
        "applicationId",
        "apiKey",
        "apiSecret",
        "jwtPrivateKey",
        "notificationChannelId",
        "webhookSigningSecret",
    }
    channel = NotificationChannel.objects.get(pk=created["notificationChannelId"])
    assert str(channel.application_id) == created["applicationId"]
    assert channel.type == ChannelType.WEBHOOK
    assert channel.url == URL
    assert channel.is_active is True
    assert application_has_active_channel(channel.application)
    # The printed secret verifies what the server signs for this channel.
    headers = sign_headers(
        secrets=channel.signing_secrets(channel.created_at), msg_id="m", body="{}"
    )
    assert verify(secret=created["webhookSigningSecret"], headers=headers, body="{}") == {}


def test_the_plain_output_shows_the_secret_too(db):
    output = _run("Acme", "--webhook-url", URL)

    channel = NotificationChannel.objects.get()
    assert f"webhookSigningSecret: {channel.signing_secret}" in output
    assert f"notificationChannelId: {channel.pk}" in output


def test_without_the_option_no_channel_is_made(db):
    created = json.loads(_run("Acme", "--json").strip().splitlines()[-1])

    assert "webhookSigningSecret" not in created
    assert not NotificationChannel.objects.exists()
    assert not application_has_active_channel(Application.objects.get())


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.0.0.1/hook", "private address"),
        ("ftp://example.com/hook", "http:// or https://"),
    ],
)
def test_a_refused_url_is_a_command_error_saying_why(db, url, reason):
    with pytest.raises(CommandError, match=reason):
        _run("Acme", "--webhook-url", url, "--json")

    assert not NotificationChannel.objects.exists()
    # Nothing half-made: no application whose secrets were never shown.
    assert not Application.objects.exists()
