"""Writes of notification channels, and the publishing of events to them.

The API, the admin and `create_application --webhook-url` all make channels
through `channel_create`, so the same rules hold everywhere: a Webhook's
http(s) URL or a RabbitMQ channel's AMQP URL whose host passes the SSRF guard,
a bounded number per application.
Processing calls `publish_event`; sending is enhancer.notifications.deliveries.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from enhancer.models import Application
from enhancer.notifications import enqueue, rabbitmq, selectors
from enhancer.notifications.models import (
    ChannelType,
    MessageType,
    NotificationChannel,
    WebhookDelivery,
)
from enhancer.notifications.signing import secret_generate
from enhancer.notifications.ssrf import UrlRefused, url_check

# Re-exported: the FaceEnhancing start endpoint asks it through this module.
application_has_active_channel = selectors.application_has_active_channel

logger = logging.getLogger(__name__)

__all__ = [
    "ChannelRefused",
    "application_has_active_channel",
    "channel_check",
    "channel_create",
    "channel_delete",
    "channel_secret_rotate",
    "channel_update",
    "publish_event",
]


class ChannelRefused(Exception):
    """A channel cannot be saved as asked; `errors` names the fields, API style."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__(" ".join(m for messages in errors.values() for m in messages))


def _check_type(channel_type: str) -> None:
    if channel_type not in ChannelType.values:
        raise ChannelRefused(
            {"type": [f"Unknown channel type {channel_type!r}; use Webhook or RabbitMQ."]}
        )


def _check_url(url: str, channel_type: str) -> None:
    if url != url.strip() or any(c.isspace() or ord(c) < 32 for c in url):
        raise ChannelRefused({"url": ["The URL must not contain spaces or control characters."]})
    try:
        if channel_type == ChannelType.RABBITMQ:
            rabbitmq.url_check(url)
        else:
            url_check(url)
    except UrlRefused as e:
        raise ChannelRefused({"url": [str(e)]}) from None


def _check_routing(channel_type: str, exchange: str, routing_key: str) -> None:
    if channel_type != ChannelType.RABBITMQ:
        errors = {
            name: ["Only RabbitMQ channels have one."]
            for name, value in (("exchange", exchange), ("routingKey", routing_key))
            if value
        }
        if errors:
            raise ChannelRefused(errors)
        return
    if not rabbitmq.EXCHANGE_PATTERN.match(exchange):
        raise ChannelRefused(
            {"exchange": ["Letters, digits, '-', '_', '.' and ':' only, at most 255."]}
        )
    if len(routing_key.encode()) > 255:
        raise ChannelRefused({"routingKey": ["At most 255 bytes."]})
    if not exchange and not routing_key:
        raise ChannelRefused(
            {"routingKey": ["Is required with the default exchange: it names the queue."]}
        )


def channel_check(
    *,
    application: Application | None,
    url: str,
    channel_type: str,
    exchange: str = "",
    routing_key: str = "",
) -> None:
    """Raise ChannelRefused unless such a channel may be saved.

    With an application, also check that it may have one more channel.
    """
    _check_type(channel_type)
    _check_url(url, channel_type)
    _check_routing(channel_type, exchange, routing_key)
    if application is not None:
        limit = settings.NOTIFICATION_CHANNELS_PER_APPLICATION_MAX
        if NotificationChannel.objects.filter(application=application).count() >= limit:
            raise ChannelRefused(
                {"": [f"An application can have at most {limit} notification channels."]}
            )


def _split_password(
    url: str, channel_type: str, kept: NotificationChannel | None = None
) -> tuple[str, str]:
    """(the URL to keep and show, the password to store encrypted).

    A RabbitMQ URL sent back without a password, for the same user (a client
    PUTting what GET showed), keeps the stored password.
    """
    if channel_type != ChannelType.RABBITMQ:
        return url, ""
    target = rabbitmq.url_parse(url)
    password = target.password
    if password is None:
        same_user = (
            kept is not None
            and kept.type == ChannelType.RABBITMQ
            and rabbitmq.url_parse(kept.url).username == target.username
        )
        password = (kept.amqp_password or "") if same_user and kept is not None else ""
    return target.without_password(), password


def _default_exchange(channel_type: str, exchange: str | None) -> str:
    if exchange is not None:
        return exchange
    return rabbitmq.ADCREATIVE_EXCHANGE if channel_type == ChannelType.RABBITMQ else ""


@transaction.atomic
def channel_create(
    *,
    application: Application,
    url: str,
    channel_type: str = ChannelType.WEBHOOK,
    is_active: bool = True,
    include_image_data: bool = False,
    exchange: str | None = None,
    routing_key: str = "",
) -> NotificationChannel:
    """A new channel; its `signing_secret` is for the caller to show, once.

    A RabbitMQ channel's exchange defaults to AdCreative's; the password of
    its URL is stored encrypted and the URL kept without it.
    """
    # Lock the application row so two concurrent creates cannot both pass the limit.
    Application.objects.select_for_update().filter(pk=application.pk).first()
    exchange = _default_exchange(channel_type, exchange)
    channel_check(
        application=application,
        url=url,
        channel_type=channel_type,
        exchange=exchange,
        routing_key=routing_key,
    )
    url, password = _split_password(url, channel_type)
    return NotificationChannel.objects.create(
        application=application,
        type=channel_type,
        url=url,
        amqp_password=password,
        exchange=exchange,
        routing_key=routing_key,
        is_active=is_active,
        include_image_data=include_image_data,
        signing_secret=secret_generate(),
    )


@transaction.atomic
def channel_update(
    *,
    channel: NotificationChannel,
    url: str,
    channel_type: str,
    is_active: bool,
    include_image_data: bool,
    exchange: str | None = None,
    routing_key: str | None = None,
) -> NotificationChannel:
    _check_type(channel_type)
    if url != channel.url or channel_type != channel.type:
        _check_url(url, channel_type)
    if exchange is None:
        exchange = channel.exchange if channel_type == channel.type else None
    exchange = _default_exchange(channel_type, exchange)
    if routing_key is None:
        routing_key = channel.routing_key if channel_type == channel.type else ""
    _check_routing(channel_type, exchange, routing_key)
    if is_active and not channel.is_active:
        # Reactivated by its owner: whatever disabled it is over.
        channel.disabled_reason = ""
    channel.url, channel.amqp_password = _split_password(url, channel_type, kept=channel)
    channel.type = channel_type
    channel.exchange = exchange
    channel.routing_key = routing_key
    channel.is_active = is_active
    channel.include_image_data = include_image_data
    channel.save()
    return channel


@transaction.atomic
def channel_delete(*, channel: NotificationChannel) -> None:
    # Its deliveries go with it (on_delete=CASCADE); a queued send finds no row.
    channel.delete()


@transaction.atomic
def channel_secret_rotate(*, channel: NotificationChannel) -> NotificationChannel:
    """A new signing secret; the old one keeps signing during the grace period."""
    grace = settings.NOTIFICATION_WEBHOOK_SECRET_ROTATION_GRACE
    if grace > 0:
        channel.previous_signing_secret = channel.signing_secret
        channel.previous_signing_secret_expires_at = timezone.now() + timedelta(seconds=grace)
    else:
        channel.previous_signing_secret = ""
        channel.previous_signing_secret_expires_at = None
    channel.signing_secret = secret_generate()
    channel.save()
    return channel


def _enqueue_delivery(delivery_id: int) -> None:
    try:
        enqueue.deliver_webhook(delivery_id=delivery_id)
    except Exception:
        # The broker is down: the delivery row stays Pending, visible in the
        # admin, which can send it again. The job itself must not fail for it.
        logger.exception("could not enqueue webhook delivery %s", delivery_id)


def publish_event(
    *,
    message_type: str,
    application_id: uuid.UUID,
    user_id: uuid.UUID,
    process_id: uuid.UUID,
    task_id: uuid.UUID,
    progress: int,
    is_successful: bool | None,
    error_message: str | None,
    result_file_name: str | None,
) -> None:
    """Record one delivery per active channel of the application and send them after commit.

    Never raises for a delivery problem: processing must go on when a
    notification cannot be recorded or queued. `result_file_name` names the
    result in default_storage; channels with includeImageData get its bytes,
    read when the message is sent.
    """
    message_type = MessageType(message_type).value  # an unknown type is a bug: ValueError
    payload = {
        "MessageType": message_type,
        "ApplicationId": str(application_id),
        "UserId": str(user_id),
        "ImageRenderProcessId": str(process_id),
        "TaskId": str(task_id),
        "Progress": progress,
        "IsSuccessful": is_successful,
        "ErrorMessage": error_message,
    }
    try:
        # A savepoint: a failure here leaves the caller's transaction usable.
        with transaction.atomic():
            deliveries = [
                WebhookDelivery.objects.create(
                    channel=channel,
                    webhook_id=f"msg_{uuid.uuid4().hex}",
                    message_type=message_type,
                    process_id=process_id,
                    payload=payload,
                    image_file_name=result_file_name or "",
                )
                for channel in selectors.channels_for_event(application_id=application_id)
            ]
    except DatabaseError:
        logger.exception("could not record the %s notifications of %s", message_type, process_id)
        return
    for delivery in deliveries:
        transaction.on_commit(partial(_enqueue_delivery, delivery.pk), robust=True)
