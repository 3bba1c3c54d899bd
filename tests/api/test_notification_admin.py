"""Admin of channels and deliveries: secrets shown once, the same rules as the API."""

from __future__ import annotations

import pytest

from enhancer.notifications.models import DeliveryStatus, NotificationChannel, WebhookDelivery

CHANNELS = "/admin/notifications/notificationchannel/"
DELIVERIES = "/admin/notifications/webhookdelivery/"


@pytest.fixture
def channel(admin_client, alice) -> NotificationChannel:
    response = admin_client.post(
        f"{CHANNELS}add/",
        {
            "application": str(alice.application.id),
            "type": "Webhook",
            "url": "http://127.0.0.1:9/hook",
            "is_active": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    made = NotificationChannel.objects.get()
    # Shown once, on the page after the creation...
    assert made.signing_secret in response.content.decode()
    return made


def test_adding_a_channel_shows_its_secret_once(admin_client, channel):
    # ...and never again.
    page = admin_client.get(f"{CHANNELS}{channel.pk}/change/").content.decode()
    assert channel.signing_secret not in page
    assert channel.signing_secret not in admin_client.get(CHANNELS).content.decode()


def test_the_admin_refuses_what_the_api_refuses(admin_client, alice, channel):
    private = admin_client.post(
        f"{CHANNELS}add/",
        {"application": str(alice.application.id), "type": "Webhook", "url": "http://10.0.0.1/"},
    )
    rabbit = admin_client.post(
        f"{CHANNELS}{channel.pk}/change/",
        {"type": "RabbitMQ", "url": channel.url, "is_active": "on"},
    )

    assert "a private address" in private.content.decode()
    assert "must start with amqp:// or amqps://" in rabbit.content.decode()
    assert NotificationChannel.objects.count() == 1


def test_rotating_from_the_admin_shows_the_new_secret(admin_client, channel):
    response = admin_client.post(
        CHANNELS, {"action": "rotate_secret", "_selected_action": [str(channel.pk)]}, follow=True
    )

    rotated = NotificationChannel.objects.get()
    assert rotated.signing_secret != channel.signing_secret
    assert rotated.signing_secret in response.content.decode()


def test_deliveries_are_listed_and_can_be_sent_again(
    admin_client, channel, enqueued, django_capture_on_commit_callbacks
):
    delivery = WebhookDelivery.objects.create(
        channel=channel,
        webhook_id="msg_1",
        message_type="ImageFaceEnhancingTaskCompleted",
        payload={"IsSuccessful": True},
        status=DeliveryStatus.FAILED,
        attempts=12,
    )

    assert admin_client.get(DELIVERIES).status_code == 200
    assert admin_client.get(f"{DELIVERIES}{delivery.pk}/change/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            DELIVERIES, {"action": "send_again", "_selected_action": [str(delivery.pk)]}
        )

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 0
    assert [(message.name, message.args) for message in enqueued] == [
        ("notifications.deliver_webhook", [delivery.pk])
    ]


def test_a_rabbitmq_channel_made_in_the_admin_keeps_its_password_hidden(admin_client, alice):
    response = admin_client.post(
        f"{CHANNELS}add/",
        {
            "application": str(alice.application.id),
            "type": "RabbitMQ",
            "url": "amqp://faces:admin-s3cret@127.0.0.1:5672/",
            "exchange": "image-render.notifications",
            "routing_key": "",
            "is_active": "on",
        },
        follow=True,
    )

    made = NotificationChannel.objects.get()
    assert (made.url, made.amqp_password) == ("amqp://faces@127.0.0.1:5672/", "admin-s3cret")
    assert made.exchange == "image-render.notifications"
    assert "admin-s3cret" not in response.content.decode()
    page = admin_client.get(f"{CHANNELS}{made.pk}/change/").content.decode()
    assert "admin-s3cret" not in page and "amqp://faces@127.0.0.1:5672/" in page

    refused = admin_client.post(
        f"{CHANNELS}{made.pk}/change/",
        {"type": "RabbitMQ", "url": made.url, "exchange": "", "routing_key": "", "is_active": "on"},
    )
    assert "names the queue" in refused.content.decode()
    made.refresh_from_db()
    assert made.exchange == "image-render.notifications"
