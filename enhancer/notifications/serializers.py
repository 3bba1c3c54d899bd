"""Request and response bodies of /api/v1/NotificationChannel, in AdCreative's camelCase."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from enhancer.notifications.models import (
    ChannelType,
    DeliveryStatus,
    MessageType,
    NotificationChannel,
)


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
        help_text="Webhook. (RabbitMQ is AdCreative's other type; this server refuses it.)",
    )
    url = serializers.CharField(
        max_length=2000,
        help_text=(
            "http(s) URL that receives the messages as signed JSON POSTs. Its host must "
            "resolve to a public address (loopback and private ones only if the server allows)."
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
    url = serializers.CharField()
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
