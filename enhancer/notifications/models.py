"""Notification channels and the webhook deliveries made to them.

A channel is where an application wants to hear about its processes
(AdCreative's `NotificationChannel`). Each event is recorded as one delivery
per active channel, sent by a task, retried with backoff and kept as a log.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import models
from encrypted_fields.fields import EncryptedCharField

from enhancer.models import Application


class ChannelType(models.TextChoices):
    WEBHOOK = "Webhook", "Webhook"
    # Messages published to the client's own RabbitMQ (enhancer/notifications/amqp.py).
    RABBITMQ = "RabbitMQ", "RabbitMQ"


class MessageType(models.TextChoices):
    PROGRESS = "ImageFaceEnhancingProgress", "Progress"
    TASK_COMPLETED = "ImageFaceEnhancingTaskCompleted", "Task completed"


class NotificationChannel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="notification_channels"
    )
    type = models.CharField(max_length=16, choices=ChannelType, default=ChannelType.WEBHOOK)
    # Not a URLField: Django's URL validator refuses host names without a dot,
    # such as a compose service (`http://dashboard:8000/...`). The SSRF guard
    # checks scheme and host instead (services.channel_create).
    # For RabbitMQ: the AMQP URL without its password (amqp_password holds it).
    url = models.CharField(max_length=2000)
    # RabbitMQ only. AdCreative's public pages name the exchange
    # `image-render.notifications` and the routing keys `task.completed` and
    # `progress.update`; the rest of their channel fields is not public.
    # An empty exchange is the broker's default one: the routing key then
    # names a queue. An empty routing key means AdCreative's, by message type.
    exchange = models.CharField(max_length=255, blank=True)
    routing_key = models.CharField(max_length=255, blank=True)
    # The password of the AMQP URL, encrypted at rest (Fernet, as the
    # dashboard's API secrets) and never shown again by the API or the admin.
    # (null: the field stores an empty value as NULL.)
    amqp_password = EncryptedCharField(max_length=1000, null=True, blank=True)
    is_active = models.BooleanField(default=True)
    include_image_data = models.BooleanField(default=False)
    # Standard Webhooks secret (`whsec_` + base64). Kept in clear because the
    # server signs with it (HMAC needs the key itself); it is shown only once,
    # on creation and on rotation, and never by the admin or the API after.
    signing_secret = models.CharField(max_length=128)
    # The secret before the last rotation keeps signing, as a second signature,
    # until this time so that receivers can switch without dropping messages.
    previous_signing_secret = models.CharField(max_length=128, blank=True)
    previous_signing_secret_expires_at = models.DateTimeField(null=True, blank=True)
    # Why the server (not the client) deactivated the channel, e.g. a 410 Gone.
    disabled_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["application", "is_active"])]

    def __str__(self) -> str:
        return f"{self.type} {self.url}"

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets every message is signed with right now (newest first)."""
        secrets = [self.signing_secret]
        expires = self.previous_signing_secret_expires_at
        if self.previous_signing_secret and expires is not None and expires > now:
            secrets.append(self.previous_signing_secret)
        return secrets


class DeliveryStatus(models.TextChoices):
    PENDING = "Pending", "Pending"
    SENDING = "Sending", "Sending"
    RETRYING = "Retrying", "Retrying"
    DELIVERED = "Delivered", "Delivered"
    FAILED = "Failed", "Failed"
    # The channel was deactivated before the message could be sent.
    CANCELLED = "Cancelled", "Cancelled"


class WebhookDelivery(models.Model):
    """One message to one channel, with the outcome of its latest attempt."""

    channel = models.ForeignKey(
        NotificationChannel, on_delete=models.CASCADE, related_name="deliveries"
    )
    # The Standard Webhooks `webhook-id`: the same on every attempt, so that a
    # receiver can drop duplicates.
    webhook_id = models.CharField(max_length=64, unique=True)
    message_type = models.CharField(max_length=64, choices=MessageType)
    process_id = models.UUIDField(null=True, blank=True, db_index=True)
    # The message without ImageContentBytes: the image is read from storage at
    # send time (base64 of a large image has no place in a log table).
    payload = models.JSONField()
    image_file_name = models.CharField(max_length=500, blank=True)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus, default=DeliveryStatus.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    attempt_started_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["channel", "-created_at"])]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.message_type} to {self.channel.url} ({self.status})"
