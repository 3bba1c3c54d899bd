"""Registering the dashboard's webhook channel at the API, once per connection.

Before its first job a team's connection registers a webhook channel for its
application (the API refuses to start jobs for an application without an
active channel, as AdCreative does). The API signs each delivery with the
channel's secret (Standard Webhooks), which is kept on the connection for the
receiver (dashboard/views/webhooks.py). Polling stays as the fallback, so a
lost or refused webhook only makes a job slower, never stuck.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timedelta
from typing import Literal

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from dashboard.api_answers import uuid_or_none
from dashboard.api_clients import connection_client
from dashboard.client import ApiError
from dashboard.models import ApiConnection

logger = logging.getLogger(__name__)


def receiver_url(connection: ApiConnection) -> str:
    return f"{settings.DASHBOARD_PUBLIC_URL.rstrip('/')}/webhooks/face-enhancer/{connection.pk}"


# A registration claimed for longer than this died with its worker (the HTTP
# call with its retries ends well before): another worker may take over.
REGISTRATION_CLAIM_TIMEOUT = timedelta(seconds=90)
# How long a submission waits for another worker's registration to finish.
REGISTRATION_WAIT_SECONDS = 30.0
_WAIT_STEP_SECONDS = 0.1


def connection_register_webhook(*, connection: ApiConnection) -> bool:
    """Register this dashboard's webhook channel once. True when one is registered.

    However many first submissions run at once, only the one whose conditional
    UPDATE claims the connection registers; the others wait for its channel.
    Two channels would sign every delivery twice, and the one whose secret we
    do not hold would be refused each time. (A row lock held across the HTTP
    call would do on PostgreSQL but deadlock on SQLite, where our own API must
    write the channel into the same database meanwhile.)

    Failure is not fatal: the caller goes on and the job is polled. (If the
    API insists on a channel, the start call then fails with its own message.)
    """
    deadline = time.monotonic() + REGISTRATION_WAIT_SECONDS
    while connection.notification_channel_id is None:
        claimed_at = _claim_registration(connection)
        if claimed_at is not None:
            outcome = _register(connection, claimed_at)
            if outcome != "lost":
                return outcome == "kept"
        elif time.monotonic() > deadline:
            logger.warning("Gave up waiting for the webhook channel of %s", connection)
            return False
        else:
            time.sleep(_WAIT_STEP_SECONDS)
        connection.refresh_from_db(fields=["notification_channel_id", "webhook_secret"])
    return True


def _claim_registration(connection: ApiConnection) -> datetime | None:
    """The claim's time if this worker may register the channel now, else None."""
    now = timezone.now()
    claimed = (
        ApiConnection.objects.filter(pk=connection.pk, notification_channel_id=None)
        .filter(
            Q(webhook_claimed_at=None) | Q(webhook_claimed_at__lt=now - REGISTRATION_CLAIM_TIMEOUT)
        )
        .update(webhook_claimed_at=now)
    )
    return now if claimed else None


def _register(connection: ApiConnection, claimed_at: datetime) -> Literal["kept", "lost", "failed"]:
    client = connection_client(connection)
    url = receiver_url(connection)
    try:
        try:
            body = client.create_webhook_channel(url=url)
        except ApiError as e:
            logger.warning("Could not register a webhook channel for %s: %s", connection, e.message)
            return "failed"
        body = body if isinstance(body, dict) else {}
        channel_id = uuid_or_none(body.get("notificationChannelId"))
        secret = str(body.get("signingSecret") or "")
        if channel_id is None:
            return "failed"
        # Kept only while the claim is still ours: past its timeout another
        # worker may be registering, and of the two channels one must go.
        kept = ApiConnection.objects.filter(
            pk=connection.pk, notification_channel_id=None, webhook_claimed_at=claimed_at
        ).update(notification_channel_id=channel_id, webhook_secret=secret, webhook_claimed_at=None)
        if not kept:
            _delete_channel(connection, channel_id)
            return "lost"
        connection.notification_channel_id = channel_id
        connection.webhook_secret = secret
        _delete_strays(connection, url=url, keep=channel_id)
        return "kept"
    finally:
        ApiConnection.objects.filter(pk=connection.pk, webhook_claimed_at=claimed_at).update(
            webhook_claimed_at=None
        )


def _delete_strays(connection: ApiConnection, *, url: str, keep: uuid.UUID) -> None:
    """Delete channels to our receiver other than `keep`: we hold none of their secrets.

    A worker that died between creating a channel and storing it left one.
    """
    try:
        channels = connection_client(connection).webhook_channels()
    except ApiError as e:  # AdCreative's API may not list channels: nothing to tidy then
        logger.info("Could not list the webhook channels of %s: %s", connection, e.message)
        return
    for channel in channels if isinstance(channels, list) else []:
        if not isinstance(channel, dict):
            continue
        channel_id = uuid_or_none(channel.get("notificationChannelId"))
        if channel.get("url") == url and channel_id is not None and channel_id != keep:
            _delete_channel(connection, channel_id)


def _delete_channel(connection: ApiConnection, channel_id: uuid.UUID) -> None:
    try:
        connection_client(connection).delete_webhook_channel(channel_id)
        logger.info(
            "Deleted webhook channel %s of %s: its secret is not ours", channel_id, connection
        )
    except ApiError as e:
        logger.warning(
            "Could not delete webhook channel %s of %s: %s", channel_id, connection, e.message
        )
