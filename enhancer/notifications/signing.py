"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

Every delivery carries three headers:

    webhook-id:        msg_...        the same on every retry of one message
    webhook-timestamp: 1767225600     seconds since the epoch, of this attempt
    webhook-signature: v1,<base64>    HMAC-SHA256 of "<id>.<timestamp>.<body>"

The key is the channel's secret, `whsec_` + base64 of random bytes, shown once
when the channel is made or its secret rotated. During a rotation a message
carries one signature per valid secret, separated by spaces.

Receivers call `verify()`. This module imports nothing from Django so that any
Python receiver (the dashboard, a test server) can use it as it is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets as random_secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

SECRET_PREFIX = "whsec_"  # noqa: S105 - the scheme's prefix, not a secret
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE = 5 * 60
HEADER_ID = "webhook-id"
HEADER_TIMESTAMP = "webhook-timestamp"
HEADER_SIGNATURE = "webhook-signature"


class WebhookVerificationError(Exception):
    """The message is not authentic, or too old or too new to be trusted."""


def secret_generate(nbytes: int = 32) -> str:
    """A new signing secret (the spec asks for 24 to 64 random bytes)."""
    if not 24 <= nbytes <= 64:
        raise ValueError("a signing secret has 24 to 64 random bytes")
    return SECRET_PREFIX + base64.b64encode(random_secrets.token_bytes(nbytes)).decode()


def _key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a signing secret is 'whsec_' followed by base64") from None


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else body


def signature(*, secret: str, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with one secret."""
    signed = f"{msg_id}.{timestamp}.".encode() + _as_bytes(body)
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def sign_headers(
    *, secrets: Sequence[str], msg_id: str, body: bytes | str, timestamp: int | None = None
) -> dict[str, str]:
    """The three headers of one attempt, signed with every given secret."""
    if not secrets:
        raise ValueError("at least one secret is needed to sign")
    ts = int(time.time()) if timestamp is None else timestamp
    signatures = " ".join(
        signature(secret=s, msg_id=msg_id, timestamp=ts, body=body) for s in secrets
    )
    return {HEADER_ID: msg_id, HEADER_TIMESTAMP: str(ts), HEADER_SIGNATURE: signatures}


def verify(
    *,
    secret: str | Sequence[str],
    headers: Mapping[str, str],
    body: bytes | str,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> Any:
    """Check a received message and return its JSON payload.

    `secret` is the channel's secret (or several, while a receiver itself
    rotates); `headers` any mapping of the request's headers (names in any
    case); `body` the raw bytes as received, before any JSON parsing. Raises
    WebhookVerificationError when a header is missing, the timestamp is
    further than `tolerance` seconds from now (a replay), or no signature
    matches.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get(HEADER_ID)
    raw_timestamp = lowered.get(HEADER_TIMESTAMP)
    raw_signatures = lowered.get(HEADER_SIGNATURE)
    if not msg_id or not raw_timestamp or not raw_signatures:
        raise WebhookVerificationError("a webhook-id, -timestamp or -signature header is missing")
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not a number") from None
    current = time.time() if now is None else now
    if timestamp < current - tolerance:
        raise WebhookVerificationError("the message is too old")
    if timestamp > current + tolerance:
        raise WebhookVerificationError("the message timestamp is in the future")

    candidates = [secret] if isinstance(secret, str) else list(secret)
    expected = [
        signature(secret=s, msg_id=msg_id, timestamp=timestamp, body=body).encode()
        for s in candidates
    ]
    for received in raw_signatures.split(" "):
        version, _, value = received.partition(",")
        if version != SIGNATURE_VERSION or not value:
            continue  # unknown schemes are skipped, as the spec asks
        # Compare against every expected signature in constant time; no early
        # exit on the secret, so timing tells nothing about which one matched.
        matches = [hmac.compare_digest(received.encode(), e) for e in expected]
        if any(matches):
            try:
                return json.loads(_as_bytes(body))
            except ValueError:
                raise WebhookVerificationError("the signed body is not JSON") from None
    raise WebhookVerificationError("no signature matches")
