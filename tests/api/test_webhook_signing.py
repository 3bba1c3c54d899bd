"""Standard Webhooks signatures: sign, verify, timestamp tolerance, secret rotation."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from enhancer.notifications.models import NotificationChannel
from enhancer.notifications.services import channel_secret_rotate
from enhancer.notifications.signing import (
    WebhookVerificationError,
    secret_generate,
    sign_headers,
    signature,
    verify,
)

SECRET = secret_generate()
BODY = b'{"MessageType":"ImageFaceEnhancingProgress","Progress":50}'


def test_the_signature_matches_the_standard_webhooks_test_vector():
    # The example of the Standard Webhooks specification and its reference libraries.
    assert (
        signature(
            secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp=1614265330,
            body='{"test": 2432232314}',
        )
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_a_secret_is_whsec_and_base64_of_random_bytes():
    secret = secret_generate()

    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert secret != secret_generate()


def test_signed_headers_verify_and_give_the_payload():
    headers = sign_headers(secrets=[SECRET], msg_id="msg_1", body=BODY)

    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-signature"].startswith("v1,")
    assert verify(secret=SECRET, headers=headers, body=BODY) == json.loads(BODY)


def test_header_names_are_matched_in_any_case():
    headers = sign_headers(secrets=[SECRET], msg_id="msg_1", body=BODY)
    shouting = {name.title(): value for name, value in headers.items()}

    assert verify(secret=SECRET, headers=shouting, body=BODY.decode())["Progress"] == 50


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: (h, b.replace(b"50", b"99")),
        lambda h, b: ({**h, "webhook-id": "msg_2"}, b),
        lambda h, b: ({**h, "webhook-timestamp": str(int(h["webhook-timestamp"]) + 1)}, b),
        lambda h, b: ({**h, "webhook-signature": "v1,AAAA"}, b),
        lambda h, b: ({**h, "webhook-signature": h["webhook-signature"].replace("v1,", "v2,")}, b),
        lambda h, b: ({k: v for k, v in h.items() if k != "webhook-signature"}, b),
        lambda h, b: ({k: v for k, v in h.items() if k != "webhook-id"}, b),
        lambda h, b: ({**h, "webhook-timestamp": "yesterday"}, b),
    ],
)
def test_a_tampered_or_incomplete_message_is_refused(tamper):
    headers, body = tamper(sign_headers(secrets=[SECRET], msg_id="msg_1", body=BODY), BODY)

    with pytest.raises(WebhookVerificationError):
        verify(secret=SECRET, headers=headers, body=body)


def test_another_secret_does_not_verify():
    headers = sign_headers(secrets=[SECRET], msg_id="msg_1", body=BODY)

    with pytest.raises(WebhookVerificationError, match="no signature matches"):
        verify(secret=secret_generate(), headers=headers, body=BODY)


def test_the_timestamp_must_be_within_the_tolerance():
    now = time.time()
    old = sign_headers(secrets=[SECRET], msg_id="m", body=BODY, timestamp=int(now) - 301)
    future = sign_headers(secrets=[SECRET], msg_id="m", body=BODY, timestamp=int(now) + 301)
    recent = sign_headers(secrets=[SECRET], msg_id="m", body=BODY, timestamp=int(now) - 290)

    with pytest.raises(WebhookVerificationError, match="too old"):
        verify(secret=SECRET, headers=old, body=BODY, now=now)
    with pytest.raises(WebhookVerificationError, match="future"):
        verify(secret=SECRET, headers=future, body=BODY, now=now)
    assert verify(secret=SECRET, headers=recent, body=BODY, now=now)
    # A receiver may choose its own tolerance.
    assert verify(secret=SECRET, headers=old, body=BODY, now=now, tolerance=600)


def test_any_of_several_space_separated_signatures_may_match():
    other = secret_generate()
    headers = sign_headers(secrets=[other, SECRET], msg_id="msg_1", body=BODY)

    assert len(headers["webhook-signature"].split(" ")) == 2
    assert verify(secret=SECRET, headers=headers, body=BODY)
    assert verify(secret=other, headers=headers, body=BODY)
    # A receiver rotating its own copy may try both secrets.
    assert verify(secret=[secret_generate(), SECRET], headers=headers, body=BODY)


def test_unknown_signature_versions_are_skipped():
    headers = sign_headers(secrets=[SECRET], msg_id="msg_1", body=BODY)
    headers["webhook-signature"] = "v1a,c29tZXRoaW5n " + headers["webhook-signature"]

    assert verify(secret=SECRET, headers=headers, body=BODY)


# --- rotation of a channel's secret -------------------------------------------------


@pytest.fixture
def channel(alice) -> NotificationChannel:
    return NotificationChannel.objects.create(
        application=alice.application, url="https://hooks.example.com/x", signing_secret=SECRET
    )


def test_after_a_rotation_both_secrets_sign_until_the_grace_period_ends(channel, settings):
    settings.NOTIFICATION_WEBHOOK_SECRET_ROTATION_GRACE = 3600
    channel = channel_secret_rotate(channel=channel)
    new = channel.signing_secret
    now = timezone.now()

    assert new != SECRET
    assert channel.signing_secrets(now) == [new, SECRET]
    headers = sign_headers(secrets=channel.signing_secrets(now), msg_id="msg_1", body=BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert verify(secret=SECRET, headers=headers, body=BODY)  # receivers not yet switched
    assert verify(secret=new, headers=headers, body=BODY)  # receivers already switched

    later = now + timedelta(seconds=3601)
    assert channel.signing_secrets(later) == [new]
    headers = sign_headers(secrets=channel.signing_secrets(later), msg_id="msg_2", body=BODY)
    with pytest.raises(WebhookVerificationError):
        verify(secret=SECRET, headers=headers, body=BODY)


def test_without_a_grace_period_the_old_secret_stops_at_once(channel, settings):
    settings.NOTIFICATION_WEBHOOK_SECRET_ROTATION_GRACE = 0

    channel = channel_secret_rotate(channel=channel)

    assert channel.signing_secrets(timezone.now()) == [channel.signing_secret]
    assert channel.previous_signing_secret == ""


def test_a_second_rotation_drops_the_first_secret(channel):
    first_rotation = channel_secret_rotate(channel=channel).signing_secret
    channel = channel_secret_rotate(channel=channel)

    assert channel.signing_secrets(timezone.now()) == [channel.signing_secret, first_rotation]
    assert SECRET not in channel.signing_secrets(timezone.now())
