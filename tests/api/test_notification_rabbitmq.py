"""RabbitMQ notification channels, against the RabbitMQ server on 127.0.0.1:5672.

Each test declares its own exchange and queue (unique names) on the default
vhost as guest/guest, consumes with a plain AMQP client, and deletes them.
The server's loopback is allowed here as an operator would allow it.
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import amqp
import pytest
from django.db import connection

from enhancer.notifications import tasks
from enhancer.notifications.models import DeliveryStatus, NotificationChannel, WebhookDelivery
from enhancer.notifications.rabbitmq import NOT_PUBLISHED
from enhancer.notifications.signing import verify
from enhancer.processing.claims import ClaimOutcome
from enhancer.processing.run import process_run
from enhancer.processing.start import AcceptedUpload, Started, process_start
from tests.api.face_enhancing_support import image_bytes

pytestmark = pytest.mark.usefixtures("media")

BASE = "/api/v1/NotificationChannel"
BROKER = ("127.0.0.1", 5672)


def _broker() -> amqp.Connection:
    conn = amqp.Connection(f"{BROKER[0]}:{BROKER[1]}", userid="guest", password="guest")
    conn.connect()
    return conn


@dataclass
class Topology:
    exchange: str
    queue: str
    channel: amqp.Channel

    def messages(self) -> list[amqp.Message]:
        got = []
        while (message := self.channel.basic_get(self.queue, no_ack=True)) is not None:
            got.append(message)
        return got


@pytest.fixture
def topology() -> Iterator[Topology]:
    """A topic exchange and a durable queue bound to all of it, deleted afterwards."""
    suffix = uuid.uuid4().hex[:12]
    conn = _broker()
    channel = conn.channel()
    exchange, queue = f"fe-test-{suffix}", f"fe-test-{suffix}"
    channel.exchange_declare(exchange, "topic", durable=True, auto_delete=False)
    channel.queue_declare(queue, durable=True, auto_delete=False)
    channel.queue_bind(queue, exchange, "#")
    try:
        yield Topology(exchange, queue, channel)
    finally:
        channel.queue_delete(queue)
        channel.exchange_delete(exchange)
        conn.close()


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    settings.NOTIFICATION_WEBHOOK_ALLOW_LOOPBACK = True
    settings.NOTIFICATION_WEBHOOK_TIMEOUT = 3.0
    settings.NOTIFICATION_WEBHOOK_RETRY_BASE_DELAY = 0.1
    settings.NOTIFICATION_WEBHOOK_RETRY_MAX_DELAY = 0.5


def _create(client, headers, **fields):
    return client.post(BASE, fields, content_type="application/json", headers=headers)


def _run_a_job(application, django_capture_on_commit_callbacks) -> Started:
    upload = AcceptedUpload(image_bytes(128), "portrait.jpg", "JPEG", 128, 128)
    with django_capture_on_commit_callbacks(execute=False):
        started = process_start(
            application=application,
            user_id=uuid.uuid4(),
            aria_ratio=0.3,
            max_face_count=4,
            upload=upload,
        )
    assert process_run(process_id=started.process.id) is ClaimOutcome.CLAIMED
    return started


def _deliver_pending() -> None:
    for pk in WebhookDelivery.objects.order_by("id").values_list("pk", flat=True):
        tasks.deliver_webhook(pk)


def test_a_channel_keeps_its_password_encrypted_and_never_shows_it(client, alice_headers):
    response = _create(
        client,
        alice_headers,
        type="RabbitMQ",
        url="amqp://guest:s3cret-pw@127.0.0.1:5672/",
        routingKey="faces",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["url"] == "amqp://guest@127.0.0.1:5672/"
    assert (body["type"], body["exchange"], body["routingKey"]) == (
        "RabbitMQ",
        "image-render.notifications",  # AdCreative's exchange, by default
        "faces",
    )
    assert "s3cret-pw" not in response.content.decode()
    listed = client.get(BASE, headers=alice_headers)
    assert "s3cret-pw" not in listed.content.decode()
    channel = NotificationChannel.objects.get()
    assert channel.amqp_password == "s3cret-pw"
    with connection.cursor() as cursor:
        cursor.execute("SELECT url, amqp_password FROM notifications_notificationchannel")
        ((url, stored),) = cursor.fetchall()
    assert "s3cret-pw" not in url and "s3cret-pw" not in stored and stored

    # PUT back what GET showed: the password is kept.
    shown = client.get(f"{BASE}/{channel.id}", headers=alice_headers).json()
    put = client.put(
        f"{BASE}/{channel.id}",
        {"type": "RabbitMQ", "url": shown["url"], "routingKey": "faces"},
        content_type="application/json",
        headers=alice_headers,
    )
    assert put.status_code == 200, put.json()
    channel.refresh_from_db()
    assert channel.amqp_password == "s3cret-pw"


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"url": "http://127.0.0.1:5672/"}, "url", "amqp://"),
        ({"url": "amqp://127.0.0.1:5672/?heartbeat=1"}, "url", "query"),
        ({"url": "amqp://169.254.169.254/"}, "url", "link-local"),
        ({"exchange": "bad name!"}, "exchange", "Letters"),
        ({"exchange": ""}, "routingKey", "names the queue"),
    ],
)
def test_invalid_rabbitmq_fields_are_a_400_naming_them(client, alice_headers, fields, field, words):
    body = {"type": "RabbitMQ", "url": "amqp://guest:guest@127.0.0.1:5672/", **fields}
    response = _create(client, alice_headers, **body)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert words in " ".join(response.json()["errors"][field])
    assert not NotificationChannel.objects.exists()


def test_a_webhook_has_no_exchange(client, alice_headers):
    response = _create(client, alice_headers, url="http://127.0.0.1:9/hook", exchange="x")
    assert response.status_code == 400
    assert response.json()["errors"]["exchange"] == ["Only RabbitMQ channels have one."]


def test_a_loopback_broker_is_refused_unless_the_operator_allows_it(
    client, alice_headers, settings
):
    settings.NOTIFICATION_WEBHOOK_ALLOW_LOOPBACK = False
    response = _create(client, alice_headers, type="RabbitMQ", url="amqp://guest:g@127.0.0.1/")
    assert response.status_code == 400
    assert "a loopback address" in response.json()["errors"]["url"][0]


def test_a_job_publishes_its_messages_persistent_and_signed(
    client, alice, alice_headers, topology, enqueued, django_capture_on_commit_callbacks
):
    created = _create(
        client,
        alice_headers,
        type="RabbitMQ",
        url="amqp://guest:guest@127.0.0.1:5672/",
        exchange=topology.exchange,
    ).json()

    started = _run_a_job(alice.application, django_capture_on_commit_callbacks)
    _deliver_pending()

    deliveries = list(WebhookDelivery.objects.order_by("id"))
    assert deliveries and {d.status for d in deliveries} == {DeliveryStatus.DELIVERED}
    messages = topology.messages()
    assert [m.properties["message_id"] for m in messages] == [d.webhook_id for d in deliveries]
    for message in messages:
        assert message.properties["delivery_mode"] == 2  # persistent
        assert message.properties["content_type"] == "application/json"
        headers = {k: str(v) for k, v in message.properties["application_headers"].items()}
        payload = verify(secret=created["signingSecret"], headers=headers, body=message.body)
        assert payload["ImageRenderProcessId"] == str(started.process.id)
        assert payload["ApplicationId"] == str(alice.application.id)
    last = json.loads(messages[-1].body)
    assert last["MessageType"] == "ImageFaceEnhancingTaskCompleted"
    assert last["IsSuccessful"] is True and last["Progress"] == 100
    assert messages[-1].delivery_info["routing_key"] == "task.completed"
    assert messages[0].delivery_info["routing_key"] == "progress.update"
    assert enqueued == []  # nothing to retry


class TcpProxy:
    """127.0.0.1:<port> forwarded to the broker; stopped and started again by the test."""

    def __init__(self) -> None:
        self.port = 0
        self._server: socket.socket | None = None
        self._conns: list[socket.socket] = []

    def start(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen()
        self.port = server.getsockname()[1]
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            # shutdown first: close alone does not wake the thread blocked in
            # accept(), which would still take the next connection.
            try:
                self._server.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._server.close()
            self._server = None
        for conn in self._conns:
            conn.close()
        self._conns.clear()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(BROKER)
            self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, target):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    tcp = TcpProxy()
    tcp.start()
    yield tcp
    tcp.stop()


def test_broker_down_then_up_loses_nothing(
    client, alice, alice_headers, topology, proxy, enqueued,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    assert (
        _create(
            client,
            alice_headers,
            type="RabbitMQ",
            url=f"amqp://guest:guest@127.0.0.1:{proxy.port}/",
            exchange=topology.exchange,
        ).status_code
        == 201
    )
    proxy.stop()  # the client's broker goes away

    _run_a_job(alice.application, django_capture_on_commit_callbacks)
    _deliver_pending()

    deliveries = list(WebhookDelivery.objects.order_by("id"))
    assert len(deliveries) >= 2
    assert {d.status for d in deliveries} == {DeliveryStatus.RETRYING}
    assert {d.last_error for d in deliveries} == {NOT_PUBLISHED}
    # each retry scheduled
    assert sorted((m.name, m.args) for m in enqueued) == [
        ("notifications.deliver_webhook", [d.pk]) for d in deliveries
    ]
    assert topology.messages() == []

    proxy.start()  # back, on the same port
    for message in list(enqueued):
        tasks.deliver_webhook(*message.args)  # the scheduled retries

    delivered = list(WebhookDelivery.objects.order_by("id"))
    assert {d.status for d in delivered} == {DeliveryStatus.DELIVERED}
    assert [d.attempts for d in delivered] == [2] * len(delivered)
    ids = [m.properties["message_id"] for m in topology.messages()]
    assert ids == [d.webhook_id for d in delivered]  # every one, once, in order


def test_an_exchange_that_does_not_exist_is_retried_with_words_saying_so(alice, enqueued, topology):
    from enhancer.notifications.services import channel_create, publish_event

    channel_create(
        application=alice.application,
        url="amqp://guest:guest@127.0.0.1:5672/",
        channel_type="RabbitMQ",
        exchange=f"{topology.exchange}-missing",
    )
    publish_event(
        message_type="ImageFaceEnhancingProgress",
        application_id=alice.application.id,
        user_id=uuid.uuid4(),
        process_id=uuid.uuid4(),
        task_id=uuid.uuid4(),
        progress=10,
        is_successful=None,
        error_message=None,
        result_file_name=None,
    )
    _deliver_pending()

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.RETRYING
    assert (
        delivery.last_error
        == f"The exchange '{topology.exchange}-missing' does not exist on the broker."
    )
