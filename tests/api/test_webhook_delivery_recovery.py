"""Deliveries whose task message was lost (broker down, worker killed) are sent all the same."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from config.celery import app
from enhancer.notifications import tasks
from enhancer.notifications.deliveries import attempt_time_limit, deliveries_sweep
from enhancer.notifications.models import DeliveryStatus, NotificationChannel, WebhookDelivery
from enhancer.notifications.signing import secret_generate


@pytest.fixture
def channel(alice, receiver) -> NotificationChannel:
    secret = secret_generate()
    receiver.secrets.append(secret)
    return NotificationChannel.objects.create(
        application=alice.application, url=receiver.url(), signing_secret=secret
    )


def _delivery(channel, n: int, **fields) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        channel=channel,
        webhook_id=f"msg_{n}",
        message_type="ImageFaceEnhancingProgress",
        payload={"Progress": n},
    )
    # updated_at is automatic on save; set the past through update().
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    return delivery


def test_the_sweep_queues_again_only_the_lost_deliveries(channel, enqueued, settings):
    settings.NOTIFICATION_WEBHOOK_SWEEP_INTERVAL = 300
    now = timezone.now()
    long_ago = now - timedelta(seconds=301)
    lost = [
        _delivery(channel, 1, status=DeliveryStatus.PENDING, updated_at=long_ago),
        _delivery(channel, 2, status=DeliveryStatus.RETRYING, next_attempt_at=long_ago),
        _delivery(
            channel,
            3,
            status=DeliveryStatus.SENDING,
            attempt_started_at=now - timedelta(seconds=attempt_time_limit() * 2 + 1),
        ),
    ]
    _delivery(channel, 4, status=DeliveryStatus.PENDING, updated_at=now)
    _delivery(channel, 5, status=DeliveryStatus.RETRYING, next_attempt_at=now)
    _delivery(channel, 6, status=DeliveryStatus.SENDING, attempt_started_at=now)
    _delivery(channel, 7, status=DeliveryStatus.DELIVERED, updated_at=long_ago)
    _delivery(channel, 8, status=DeliveryStatus.FAILED, updated_at=long_ago)

    swept = deliveries_sweep()

    assert swept == [d.pk for d in lost]
    assert [call.args for call in enqueued] == [[d.pk] for d in lost]
    assert all(call.queue == "default" for call in enqueued)


def test_a_swept_attempt_of_a_dead_worker_is_sent(channel, receiver, enqueued):
    delivery = _delivery(
        channel,
        1,
        status=DeliveryStatus.SENDING,
        attempts=1,
        attempt_started_at=timezone.now() - timedelta(seconds=attempt_time_limit() * 2 + 1),
    )

    tasks.sweep_deliveries()
    tasks.deliver_webhook(*enqueued.pop().args)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 2
    assert receiver.received[0].verification_error is None


def test_a_redelivered_message_of_a_killed_worker_looks_again_when_the_claim_is_stale(
    channel, receiver, enqueued
):
    # The worker died mid-attempt; the broker hands its message out again at once.
    delivery = _delivery(
        channel, 1, status=DeliveryStatus.SENDING, attempts=1, attempt_started_at=timezone.now()
    )

    tasks.deliver_webhook(delivery.pk)

    assert receiver.received == []
    (again,) = enqueued
    assert again.args == [delivery.pk]
    assert 1 <= again.countdown <= attempt_time_limit() * 2


def test_the_sweep_runs_on_beat():
    entry = app.conf.beat_schedule["notifications-sweep-deliveries"]

    assert entry["task"] == "notifications.sweep_deliveries"
    assert app.amqp.router.route({}, entry["task"])["queue"].name == "default"
