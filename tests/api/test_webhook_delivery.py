"""Webhook deliveries: received by a real local HTTP server, signatures verified there.

Most tests call the delivery task in this process (fast) with the re-enqueue
of a retry captured; the last one goes through a real worker end to end.
"""

from __future__ import annotations

import base64
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from enhancer.auth.credentials import application_create
from enhancer.notifications import tasks
from enhancer.notifications.deliveries import NOT_DELIVERED, backoff_delay
from enhancer.notifications.models import DeliveryStatus, NotificationChannel, WebhookDelivery
from enhancer.notifications.services import application_has_active_channel, publish_event
from enhancer.notifications.signing import secret_generate
from tests.conftest import wait_until

PROCESS_ID = uuid.uuid4()
TASK_ID = uuid.uuid4()
USER_ID = uuid.uuid4()


@pytest.fixture(autouse=True)
def fast_retries(settings):
    settings.NOTIFICATION_WEBHOOK_RETRY_BASE_DELAY = 0.2
    settings.NOTIFICATION_WEBHOOK_RETRY_MAX_DELAY = 1.0
    settings.NOTIFICATION_WEBHOOK_TIMEOUT = 2.0


def _channel(application, receiver, **fields) -> NotificationChannel:
    secret = secret_generate()
    receiver.secrets.append(secret)
    return NotificationChannel.objects.create(
        application=application, url=receiver.url(), signing_secret=secret, **fields
    )


def _publish(application, *, message_type="ImageFaceEnhancingTaskCompleted", **fields) -> None:
    event = {
        "message_type": message_type,
        "application_id": application.id,
        "user_id": USER_ID,
        "process_id": PROCESS_ID,
        "task_id": TASK_ID,
        "progress": 100,
        "is_successful": True,
        "error_message": None,
        "result_file_name": None,
        **fields,
    }
    publish_event(**event)


def _deliver_all() -> None:
    for pk in WebhookDelivery.objects.values_list("pk", flat=True):
        tasks.deliver_webhook(pk)


# --- publishing ----------------------------------------------------------------------


def test_an_event_is_recorded_once_per_active_channel_and_sent_after_commit(
    alice, bob, receiver, enqueued, django_capture_on_commit_callbacks
):
    first = _channel(alice.application, receiver)
    second = _channel(alice.application, receiver)
    _channel(alice.application, receiver, is_active=False)
    _channel(bob.application, receiver)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _publish(
            alice.application,
            message_type="ImageFaceEnhancingProgress",
            progress=40,
            is_successful=None,
        )
        assert enqueued == []  # nothing leaves before the transaction commits
    for callback in callbacks:
        callback()

    deliveries = WebhookDelivery.objects.order_by("id")
    assert [d.channel_id for d in deliveries] == [first.id, second.id]
    assert [call.args for call in enqueued] == [[d.pk] for d in deliveries]
    assert all(call.queue == "default" for call in enqueued)
    delivery = deliveries[0]
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.webhook_id.startswith("msg_")
    assert delivery.process_id == PROCESS_ID
    assert delivery.payload == {
        "MessageType": "ImageFaceEnhancingProgress",
        "ApplicationId": str(alice.application.id),
        "UserId": str(USER_ID),
        "ImageRenderProcessId": str(PROCESS_ID),
        "TaskId": str(TASK_ID),
        "Progress": 40,
        "IsSuccessful": None,
        "ErrorMessage": None,
    }


def test_an_application_without_channels_gets_nothing(alice, enqueued):
    _publish(alice.application)

    assert not WebhookDelivery.objects.exists()
    assert not application_has_active_channel(alice.application)


def test_publishing_never_fails_the_caller_when_the_broker_is_down(alice, receiver, broker_down):
    _channel(alice.application, receiver)
    with transaction.atomic():
        _publish(alice.application)  # on_commit runs the enqueue when this block ends

    assert WebhookDelivery.objects.get().status == DeliveryStatus.PENDING


def test_an_unknown_message_type_is_a_programming_error(alice):
    with pytest.raises(ValueError):
        _publish(alice.application, message_type="SomethingElse")


# --- sending ---------------------------------------------------------------------------


def test_a_delivery_arrives_signed_and_is_recorded(alice, receiver, enqueued):
    _channel(alice.application, receiver)
    _publish(alice.application, is_successful=False, error_message="No face was found.")

    _deliver_all()

    (received,) = receiver.received
    delivery = WebhookDelivery.objects.get()
    assert received.verification_error is None
    assert received.path == "/hook"
    assert received.headers["content-type"] == "application/json"
    assert received.headers["webhook-id"] == delivery.webhook_id
    assert received.payload["MessageType"] == "ImageFaceEnhancingTaskCompleted"
    assert received.payload["IsSuccessful"] is False
    assert received.payload["ErrorMessage"] == "No face was found."
    assert "ImageContentBytes" not in received.payload
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 200
    assert delivery.delivered_at is not None
    assert enqueued == []  # no retry


def test_a_receiver_answering_500_is_retried_and_then_succeeds(alice, receiver, enqueued, settings):
    receiver.statuses = [500, 200]
    _channel(alice.application, receiver)
    _publish(alice.application)
    delivery = WebhookDelivery.objects.get()

    tasks.deliver_webhook(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.attempts == 1
    assert delivery.last_status_code == 500
    assert delivery.last_error == "The receiver answered 500."
    assert delivery.next_attempt_at is not None
    (retry,) = enqueued
    assert retry.args == [delivery.pk]
    assert retry.queue == "default"
    # Equal jitter: between half the base delay and the base delay for the first retry.
    assert 0.1 <= retry.countdown <= 0.2

    tasks.deliver_webhook(*retry.args)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 2
    assert delivery.last_status_code == 200
    first, second = receiver.received
    assert first.verification_error is None and second.verification_error is None
    # The same webhook-id on every attempt, so receivers can drop duplicates.
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.webhook_id
    assert len(enqueued) == 1


def test_backoff_grows_exponentially_up_to_the_cap(settings):
    settings.NOTIFICATION_WEBHOOK_RETRY_BASE_DELAY = 10
    settings.NOTIFICATION_WEBHOOK_RETRY_MAX_DELAY = 100

    for attempt, full in [(1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (30, 100)]:
        delays = [backoff_delay(attempt) for _ in range(50)]
        assert all(full / 2 <= d <= full for d in delays)
        assert len(set(delays)) > 1  # jittered


def test_a_delivery_gives_up_after_the_maximum_attempts(alice, receiver, enqueued, settings):
    settings.NOTIFICATION_WEBHOOK_MAX_ATTEMPTS = 3
    receiver.statuses = [503]
    _channel(alice.application, receiver)
    _publish(alice.application)
    delivery = WebhookDelivery.objects.get()

    tasks.deliver_webhook(delivery.pk)
    while enqueued and len(receiver.received) < 5:
        tasks.deliver_webhook(*enqueued[-1].args)
        if WebhookDelivery.objects.get().status == DeliveryStatus.FAILED:
            break

    delivery.refresh_from_db()
    assert len(receiver.received) == 3
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 3
    assert "gave up after 3 attempts" in delivery.last_error
    assert len(enqueued) == 2


def test_a_redirect_is_a_failure_and_is_not_followed(alice, receiver, enqueued):
    receiver.statuses = [302]
    _channel(alice.application, receiver)
    _publish(alice.application)

    _deliver_all()

    delivery = WebhookDelivery.objects.get()
    assert [r.path for r in receiver.received] == ["/hook"]
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.last_status_code == 302
    assert "redirects are not followed" in delivery.last_error
    assert len(enqueued) == 1


def test_a_receiver_too_slow_to_answer_is_retried(alice, receiver, enqueued, settings):
    settings.NOTIFICATION_WEBHOOK_TIMEOUT = 0.3
    receiver.delay = 1.0
    _channel(alice.application, receiver)
    _publish(alice.application)

    _deliver_all()

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.last_status_code is None
    assert delivery.last_error == NOT_DELIVERED
    assert len(enqueued) == 1


def test_a_receiver_that_is_down_is_retried(alice, receiver, enqueued):
    channel = _channel(alice.application, receiver)
    channel.url = "http://127.0.0.1:9/hook"  # discard port: nothing listens
    channel.save()
    _publish(alice.application)

    _deliver_all()

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.last_error == NOT_DELIVERED
    assert len(enqueued) == 1


def test_410_gone_disables_the_channel(alice, receiver, enqueued):
    receiver.statuses = [410]
    channel = _channel(alice.application, receiver)
    _publish(alice.application)
    _publish(alice.application, message_type="ImageFaceEnhancingProgress")
    first, second = WebhookDelivery.objects.order_by("id")

    tasks.deliver_webhook(first.pk)
    tasks.deliver_webhook(second.pk)

    channel.refresh_from_db()
    first.refresh_from_db()
    second.refresh_from_db()
    assert channel.is_active is False
    assert "410 Gone" in channel.disabled_reason
    assert first.status == DeliveryStatus.FAILED
    assert first.last_status_code == 410
    # The next message is not sent to a receiver that said it is gone.
    assert second.status == DeliveryStatus.CANCELLED
    assert len(receiver.received) == 1
    assert enqueued == []
    assert not application_has_active_channel(alice.application)


def test_include_image_data_carries_the_result_bytes(alice, receiver, enqueued, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    image = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    name = default_storage.save("results/enhanced.png", ContentFile(image))
    with_image = _channel(alice.application, receiver, include_image_data=True)
    _channel(alice.application, receiver)
    _publish(alice.application, result_file_name=name)

    _deliver_all()

    assert len(receiver.received) == 2
    by_channel = {r.headers["webhook-id"]: r for r in receiver.received}
    image_delivery = WebhookDelivery.objects.get(channel=with_image)
    carrying = by_channel.pop(image_delivery.webhook_id)
    (plain,) = by_channel.values()
    assert carrying.verification_error is None
    assert base64.b64decode(carrying.payload["ImageContentBytes"]) == image
    assert "ImageContentBytes" not in plain.payload
    # The log keeps the message, not the image.
    assert "ImageContentBytes" not in image_delivery.payload
    assert image_delivery.image_file_name == name


def test_image_data_of_a_message_without_a_result_is_null(alice, receiver, enqueued):
    _channel(alice.application, receiver, include_image_data=True)
    _publish(alice.application, message_type="ImageFaceEnhancingProgress", progress=50)

    _deliver_all()

    assert receiver.received[0].payload["ImageContentBytes"] is None


def test_a_second_copy_of_the_task_message_sends_nothing(alice, receiver, enqueued):
    _channel(alice.application, receiver)
    _publish(alice.application)
    delivery = WebhookDelivery.objects.get()

    tasks.deliver_webhook(delivery.pk)
    tasks.deliver_webhook(delivery.pk)  # e.g. redelivered by the broker

    assert len(receiver.received) == 1
    assert WebhookDelivery.objects.get().attempts == 1


def test_a_deleted_channel_takes_its_queued_deliveries_with_it(alice, receiver, enqueued):
    channel = _channel(alice.application, receiver)
    _publish(alice.application)
    delivery_id = WebhookDelivery.objects.get().pk
    channel.delete()

    tasks.deliver_webhook(delivery_id)

    assert receiver.received == []


def test_deliveries_are_listed_by_the_api(client, alice, alice_headers, receiver, enqueued):
    channel = _channel(alice.application, receiver)
    receiver.statuses = [500]
    _publish(alice.application)
    _deliver_all()

    response = client.get(
        f"/api/v1/NotificationChannel/{channel.pk}/Deliveries", headers=alice_headers
    )

    (listed,) = response.json()
    assert listed["status"] == "Retrying"
    assert listed["attempts"] == 1
    assert listed["lastStatusCode"] == 500
    assert listed["nextAttemptAt"] is not None
    assert listed["payload"]["TaskId"] == str(TASK_ID)


# --- end to end, through the broker and a real worker process ---------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_a_signed_webhook(celery_worker_process, receiver):
    application = application_create(name="End to end").application
    _channel(application, receiver)

    with transaction.atomic():
        _publish(application)

    try:
        (received,) = receiver.wait_for(1, timeout=60)
    except AssertionError:
        rows = list(WebhookDelivery.objects.values("status", "attempts", "last_error"))
        log = celery_worker_process.output()[-3000:]
        raise AssertionError(f"not delivered; deliveries: {rows}\nworker log:\n{log}") from None
    assert received.verification_error is None
    assert received.payload["ImageRenderProcessId"] == str(PROCESS_ID)

    # The worker records the outcome right after the receiver's answer.
    def delivered() -> WebhookDelivery | None:
        delivery = WebhookDelivery.objects.get()
        return delivery if delivery.status == DeliveryStatus.DELIVERED else None

    delivery = wait_until(delivered, timeout=10, what="the delivery to be Delivered", every=0.05)
    assert delivery.attempts == 1
    assert delivery.last_status_code == 200
