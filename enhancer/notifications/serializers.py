"""Request and response bodies of /api/v1/NotificationChannel, in AdCreative's camelCase."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from enhancer.notifications import rabbitmq
from enhancer.notifications.models import (
    ChannelType,
    DeliveryStatus,
    MessageType,
    NotificationChannel,
)


@extend_schema_field(OpenApiTypes.URI)
class UriField(serializers.CharField):
    """A URL checked by the services (SSRF guard), documented as `format: uri`.

    Not DRF's URLField: Django's validator refuses host names without a dot
    (a compose service such as `http://dashboard:8000/`) and amqp:// URLs.
    """


class ChannelTypeField(serializers.ChoiceField):
    """`Webhook` or `RabbitMQ`, in any letter case."""

    def __init__(self, **kwargs: Any):
        super().__init__(choices=ChannelType.choices, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, str):
            for value in ChannelType.values:
                if data.strip().lower() == value.lower():
                    return value
        return super().to_internal_value(data)


class ChannelRequest(serializers.Serializer):
    applicationId = serializers.UUIDField(
        required=False,
        help_text="Optional; when given it must be the application of the credentials.",
    )
    type = ChannelTypeField(
        default=ChannelType.WEBHOOK,
        help_text="Webhook (signed JSON POSTs) or RabbitMQ (messages published to your broker).",
    )
    url = UriField(
        max_length=2000,
        help_text=(
            "Webhook: the http(s) URL that receives the messages as signed JSON POSTs. "
            "RabbitMQ: amqp(s)://user:password@host:port/vhost; the password is stored "
            "encrypted and never shown again. The host must resolve to a public address "
            "(loopback and private ones only if the server allows)."
        ),
    )
    exchange = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=255,
        help_text=(
            "RabbitMQ only: the exchange to publish to (it must exist), "
            f"{rabbitmq.ADCREATIVE_EXCHANGE!r} by default, as AdCreative's; empty is the "
            "broker's default exchange, where routingKey names the queue."
        ),
    )
    routingKey = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=255,
        help_text=(
            "RabbitMQ only: the routing key of every message. Empty (the default): "
            "AdCreative's, task.completed and progress.update by message type."
        ),
    )
    isActive = serializers.BooleanField(default=True)
    includeImageData = serializers.BooleanField(
        default=False,
        help_text="Put the result image (base64) in ImageContentBytes of completed messages.",
    )


class ChannelResponse(serializers.Serializer):
    notificationChannelId = serializers.UUIDField(source="id")
    applicationId = serializers.UUIDField(source="application_id")
    type = serializers.ChoiceField(choices=ChannelType.choices)
    url = UriField(help_text="A RabbitMQ channel's URL is shown without its password.")
    exchange = serializers.CharField(allow_null=True, help_text="RabbitMQ only; null otherwise.")
    routingKey = serializers.CharField(
        source="routing_key", allow_null=True, help_text="RabbitMQ only; null otherwise."
    )
    isActive = serializers.BooleanField(source="is_active")
    includeImageData = serializers.BooleanField(source="include_image_data")
    disabledReason = serializers.CharField(
        source="disabled_reason",
        allow_null=True,
        help_text="Why the server deactivated the channel (a 410 Gone from the receiver), if so.",
    )
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    def to_representation(self, instance: NotificationChannel) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["disabledReason"] = data["disabledReason"] or None
        if instance.type != ChannelType.RABBITMQ:
            data["exchange"] = data["routingKey"] = None
        return data


class ChannelWithSecretResponse(ChannelResponse):
    signingSecret = serializers.CharField(
        source="signing_secret",
        help_text=(
            "Standard Webhooks secret (whsec_...) that signs every message. Shown only now: "
            "keep it to verify the webhook-signature header."
        ),
    )


class DeliveryResponse(serializers.Serializer):
    webhookId = serializers.CharField(source="webhook_id")
    messageType = serializers.ChoiceField(source="message_type", choices=MessageType.choices)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    attempts = serializers.IntegerField()
    lastStatusCode = serializers.IntegerField(source="last_status_code", allow_null=True)
    lastError = serializers.CharField(source="last_error", allow_blank=True)
    nextAttemptAt = serializers.DateTimeField(source="next_attempt_at", allow_null=True)
    deliveredAt = serializers.DateTimeField(source="delivered_at", allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at")
    payload = serializers.JSONField(
        help_text="The message as sent, without ImageContentBytes.",
    )
