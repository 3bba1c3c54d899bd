"""Sending one webhook delivery: claim it, sign it, POST it, record what happened.

An attempt succeeds on a 2xx answer. A timeout, a connection error or any
other answer (3xx included: redirects are not followed) is retried with
exponential backoff and jitter until NOTIFICATION_WEBHOOK_MAX_ATTEMPTS. A 410
Gone means the receiver is gone for good: the channel is deactivated, as the
Standard Webhooks guidance asks. An address the SSRF guard refuses at connect
time fails the delivery at once; retrying would only be refused again.
"""

from __future__ import annotations

import base64
import json
import logging
import random
from dataclasses import dataclass
from datetime import timedelta

import requests
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from enhancer.notifications import enqueue, rabbitmq
from enhancer.notifications.models import (
    ChannelType,
    DeliveryStatus,
    NotificationChannel,
    WebhookDelivery,
)
from enhancer.notifications.signing import sign_headers
from enhancer.notifications.ssrf import UrlRefused, guarded_session

logger = logging.getLogger(__name__)

USER_AGENT = "FaceEnhancer-Webhooks/1.0"
# What a tenant reads of any attempt that got no HTTP answer (see the attempt).
NOT_DELIVERED = "No HTTP answer from the receiver (unreachable, too slow, or not an HTTP server)."


def attempt_time_limit() -> float:
    """Seconds one attempt may take: connect, send, wait for the status line."""
    return settings.NOTIFICATION_WEBHOOK_TIMEOUT * 3 + 10


def backoff_delay(attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based).

    Exponential, capped below the broker's visibility timeout (a longer
    countdown would be delivered twice by Redis), with "equal jitter": at
    least half the delay, so a retry never comes at once, plus a random half,
    so the deliveries of a receiver that comes back do not arrive in lockstep.
    """
    cap = settings.NOTIFICATION_WEBHOOK_RETRY_MAX_DELAY
    delay = min(cap, settings.NOTIFICATION_WEBHOOK_RETRY_BASE_DELAY * 2.0 ** min(attempt - 1, 60))
    return delay / 2 + random.uniform(0, delay / 2)  # noqa: S311 - jitter, not a secret


@dataclass(frozen=True)
class AttemptOutcome:
    """Where one attempt left the delivery, and in how many seconds to try again, if ever."""

    status: str
    retry_in: float | None = None


class NotDelivered(Exception):
    """No answer from a webhook's receiver, or no confirm from a RabbitMQ broker:
    worth another attempt. `error` is what the tenant reads in the delivery log."""

    def __init__(self, error: str) -> None:
        self.error = error
        super().__init__(error)


def _stale_after() -> timedelta:
    # An attempt still Sending this long after it began has lost its worker:
    # the task's own hard time limit is shorter.
    return timedelta(seconds=attempt_time_limit() * 2)


def delivery_claim(*, delivery_id: int) -> WebhookDelivery | None:
    """Take the delivery for one attempt, or None if it is done or taken.

    A conditional UPDATE, so that a second copy of the task message (a broker
    redelivery) does nothing. An attempt whose worker died long ago is stale
    and may be taken again.
    """
    now = timezone.now()
    claimable = Q(status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING]) | Q(
        status=DeliveryStatus.SENDING, attempt_started_at__lt=now - _stale_after()
    )
    claimed = WebhookDelivery.objects.filter(claimable, pk=delivery_id).update(
        status=DeliveryStatus.SENDING,
        attempt_started_at=now,
        attempts=F("attempts") + 1,
        next_attempt_at=None,
        updated_at=now,
    )
    if claimed != 1:
        return None
    return WebhookDelivery.objects.select_related("channel").get(pk=delivery_id)


def _seconds_until_stale(delivery_id: int) -> float | None:
    """For a delivery being sent, the seconds until that attempt counts as lost."""
    started = (
        WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENDING)
        .values_list("attempt_started_at", flat=True)
        .first()
    )
    if started is None:
        return None
    return max((started + _stale_after() - timezone.now()).total_seconds(), 1.0)


def _image_base64(name: str) -> str | None:
    try:
        with default_storage.open(name, "rb") as image:
            return base64.b64encode(image.read()).decode("ascii")
    except OSError:
        # The result was removed since the event: send the message without it.
        logger.warning("webhook image %s cannot be read; sent without its bytes", name)
        return None


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """The exact bytes that are signed and sent."""
    payload = dict(delivery.payload)
    if delivery.channel.include_image_data:
        name = delivery.image_file_name
        payload["ImageContentBytes"] = _image_base64(name) if name else None
    return json.dumps(payload, separators=(",", ":")).encode()


def _post(channel: NotificationChannel, body: bytes, headers: dict[str, str]) -> int:
    headers = headers | {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    timeout = settings.NOTIFICATION_WEBHOOK_TIMEOUT
    with guarded_session() as session:
        # stream=True: only the status line and headers are read; the body of
        # the answer is of no use and could be large.
        response = session.post(
            channel.url,
            data=body,
            headers=headers,
            timeout=(timeout, timeout),
            allow_redirects=False,
            stream=True,
        )
        response.close()
    return response.status_code


def _publish(delivery: WebhookDelivery, body: bytes, headers: dict[str, str]) -> None:
    """Publish to a RabbitMQ channel; returns on the broker's confirm."""
    channel = delivery.channel
    rabbitmq.publish(
        url=channel.url,
        password=channel.amqp_password or "",
        exchange=channel.exchange,
        key=rabbitmq.routing_key(
            channel_key=channel.routing_key, message_type=delivery.message_type
        ),
        message_id=delivery.webhook_id,
        message_type=delivery.message_type,
        body=body,
        headers=headers,
        timeout=settings.NOTIFICATION_WEBHOOK_TIMEOUT,
    )


def _send(delivery: WebhookDelivery) -> int | None:
    """Sign and send the delivery: a webhook's HTTP status, None for a confirmed publish.

    Raises UrlRefused when the SSRF guard refuses the address at connect time,
    NotDelivered when another attempt may do better.
    """
    channel = delivery.channel
    is_rabbitmq = channel.type == ChannelType.RABBITMQ
    try:
        body = delivery_body(delivery)
        headers = sign_headers(
            secrets=channel.signing_secrets(timezone.now()), msg_id=delivery.webhook_id, body=body
        )
        if is_rabbitmq:
            _publish(delivery, body, headers)
            return None
        return _post(channel, body, headers)
    except UrlRefused:
        raise
    except rabbitmq.NotPublished as e:
        raise NotDelivered(str(e)) from e
    except (requests.RequestException, SoftTimeLimitExceeded) as e:
        # One wording for a refused connection, a timeout and an answer that
        # is not HTTP: the log is the tenant's, and distinct words would let
        # it map what listens on which port of a host. Operators get the
        # cause in the server log.
        logger.info("webhook delivery %s not delivered: %r", delivery.pk, e)
        raise NotDelivered(rabbitmq.NOT_PUBLISHED if is_rabbitmq else NOT_DELIVERED) from e


def _record(delivery: WebhookDelivery, **fields: object) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(updated_at=timezone.now(), **fields)


def _fail_or_retry(
    delivery: WebhookDelivery, *, status_code: int | None, error: str
) -> AttemptOutcome:
    if delivery.attempts >= settings.NOTIFICATION_WEBHOOK_MAX_ATTEMPTS:
        _record(
            delivery,
            status=DeliveryStatus.FAILED,
            last_status_code=status_code,
            last_error=f"{error} (gave up after {delivery.attempts} attempts)",
        )
        return AttemptOutcome(DeliveryStatus.FAILED)
    delay = backoff_delay(delivery.attempts)
    _record(
        delivery,
        status=DeliveryStatus.RETRYING,
        last_status_code=status_code,
        last_error=error,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
    )
    return AttemptOutcome(DeliveryStatus.RETRYING, retry_in=delay)


def webhook_delivery_attempt(*, delivery_id: int) -> AttemptOutcome | None:
    """Make one attempt at a delivery. `retry_in` says when to try again, if ever."""
    delivery = delivery_claim(delivery_id=delivery_id)
    if delivery is None:
        # Another attempt holds it. If that attempt's worker was killed, this
        # message is its redelivery, come before the claim is stale: look
        # again once it is, or the delivery would stay Sending for ever.
        wait = _seconds_until_stale(delivery_id)
        return None if wait is None else AttemptOutcome(DeliveryStatus.SENDING, retry_in=wait)
    channel = delivery.channel
    if not channel.is_active:
        _record(
            delivery,
            status=DeliveryStatus.CANCELLED,
            last_error="The channel was deactivated before the message could be sent.",
        )
        return AttemptOutcome(DeliveryStatus.CANCELLED)

    try:
        status_code = _send(delivery)
    except UrlRefused as e:
        _record(delivery, status=DeliveryStatus.FAILED, last_status_code=None, last_error=str(e))
        return AttemptOutcome(DeliveryStatus.FAILED)
    except NotDelivered as e:
        return _fail_or_retry(delivery, status_code=None, error=e.error)

    if status_code is None or 200 <= status_code < 300:
        _record(
            delivery,
            status=DeliveryStatus.DELIVERED,
            last_status_code=status_code,
            last_error="",
            delivered_at=timezone.now(),
        )
        return AttemptOutcome(DeliveryStatus.DELIVERED)
    if status_code == 410:
        reason = (
            f"The receiver answered 410 Gone on {timezone.now():%Y-%m-%d %H:%M} UTC; "
            "reactivate the channel to send to it again."
        )
        NotificationChannel.objects.filter(pk=channel.pk).update(
            is_active=False, disabled_reason=reason, updated_at=timezone.now()
        )
        _record(delivery, status=DeliveryStatus.FAILED, last_status_code=410, last_error=reason)
        return AttemptOutcome(DeliveryStatus.FAILED)
    if 300 <= status_code < 400:
        error = f"The receiver answered {status_code}; redirects are not followed."
    else:
        error = f"The receiver answered {status_code}."
    return _fail_or_retry(delivery, status_code=status_code, error=error)


def deliveries_sweep(*, limit: int = 500) -> list[int]:
    """Queue again the deliveries whose task message was lost; their ids.

    Lost means: still Pending, or Retrying past its time, a whole sweep
    interval later (the broker was down when it was enqueued, or the message
    died with its worker), or Sending long after its worker's time limit.
    A copy of a message that was only late is harmless: the claim sees to it.
    """
    now = timezone.now()
    late = now - timedelta(seconds=settings.NOTIFICATION_WEBHOOK_SWEEP_INTERVAL)
    lost = (
        Q(status=DeliveryStatus.PENDING, updated_at__lt=late)
        | Q(status=DeliveryStatus.RETRYING, next_attempt_at__lt=late)
        | Q(status=DeliveryStatus.SENDING, attempt_started_at__lt=now - _stale_after())
    )
    ids = list(
        WebhookDelivery.objects.filter(lost).order_by("id").values_list("pk", flat=True)[:limit]
    )
    for delivery_id in ids:
        enqueue.deliver_webhook(delivery_id=delivery_id)
    return ids


def deliveries_recover(*, limit: int = 5000) -> list[int]:
    """After a broker restart, queue again every delivery that may have lost its message.

    A restart loses the messages workers held (the countdowns of retries
    included) and, when the server kept no data, every queued one. Pending
    and overdue Retrying deliveries are sent now, the other Retrying ones at
    their time, stale Sending ones as the sweep would. A copy of a message
    that survived is harmless: the claim lets one attempt through.
    """
    now = timezone.now()
    waiting = Q(status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING]) | Q(
        status=DeliveryStatus.SENDING, attempt_started_at__lt=now - _stale_after()
    )
    rows = (
        WebhookDelivery.objects.filter(waiting)
        .order_by("id")
        .values_list("pk", "next_attempt_at")[:limit]
    )
    ids = []
    for delivery_id, next_attempt_at in rows:
        countdown = max((next_attempt_at - now).total_seconds(), 0.0) if next_attempt_at else 0.0
        enqueue.deliver_webhook(delivery_id=delivery_id, countdown=countdown)
        ids.append(delivery_id)
    return ids


@transaction.atomic
def delivery_resend(*, delivery: WebhookDelivery) -> None:
    """Queue a delivery again with a fresh attempt budget (the admin's "send again")."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=None, updated_at=timezone.now()
    )
    transaction.on_commit(lambda: enqueue.deliver_webhook(delivery_id=delivery.pk))
