"""Reads of notification channels and deliveries, always scoped by application."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from enhancer.models import Application
from enhancer.notifications.models import ChannelType, NotificationChannel, WebhookDelivery


def application_has_active_channel(application: Application) -> bool:
    """May the application start a job? (AdCreative wants an active channel first.)"""
    return NotificationChannel.objects.filter(application=application, is_active=True).exists()


def channel_list(
    *, application: Application, active_only: bool = False
) -> QuerySet[NotificationChannel]:
    channels = NotificationChannel.objects.filter(application=application)
    if active_only:
        channels = channels.filter(is_active=True)
    return channels.order_by("created_at", "id")


def channel_get(*, application: Application, channel_id: uuid.UUID) -> NotificationChannel | None:
    """The channel, if it belongs to the application; another's is as good as missing."""
    return NotificationChannel.objects.filter(application=application, id=channel_id).first()


def channels_for_event(*, application_id: uuid.UUID) -> QuerySet[NotificationChannel]:
    """The channels an event of the application is sent to."""
    return NotificationChannel.objects.filter(
        application_id=application_id, is_active=True, type__in=ChannelType.values
    ).order_by("created_at", "id")


def delivery_list(*, channel: NotificationChannel, limit: int) -> list[WebhookDelivery]:
    """The channel's latest deliveries, newest first."""
    return list(
        WebhookDelivery.objects.filter(channel=channel).order_by("-created_at", "-id")[:limit]
    )
