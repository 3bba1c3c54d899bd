"""A delivery's lastError reads the same whatever listens on the port.

Issue 12: with distinct words for a refused connection, a timeout and a
non-HTTP answer, a tenant could scan the server's ports through its own
channel's delivery log. Here three real listeners (none, a silent one, one
speaking Redis' protocol) must leave the very same words, and no status code.
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator

import pytest

from enhancer.notifications import tasks
from enhancer.notifications.deliveries import NOT_DELIVERED
from enhancer.notifications.models import DeliveryStatus, NotificationChannel, WebhookDelivery
from enhancer.notifications.services import publish_event
from enhancer.notifications.signing import secret_generate

pytestmark = pytest.mark.django_db(transaction=True)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def listener() -> Iterator[callable]:
    """Start TCP servers that accept and then answer `reply` (or stay silent)."""
    sockets: list[socket.socket] = []

    def start(reply: bytes | None) -> int:
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen()
        sockets.append(server)

        def serve() -> None:
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                sockets.append(conn)
                if reply is not None:
                    conn.recv(65536)
                    conn.sendall(reply)
                    conn.close()

        threading.Thread(target=serve, daemon=True).start()
        return server.getsockname()[1]

    yield start
    for s in sockets:
        s.close()


def _last_error(application, port: int) -> WebhookDelivery:
    NotificationChannel.objects.create(
        application=application,
        url=f"http://127.0.0.1:{port}/hook",
        signing_secret=secret_generate(),
    )
    publish_event(
        message_type="ImageFaceEnhancingProgress",
        application_id=application.id,
        user_id=uuid.uuid4(),
        process_id=uuid.uuid4(),
        task_id=uuid.uuid4(),
        progress=10,
        is_successful=None,
        error_message=None,
        result_file_name=None,
    )
    delivery = WebhookDelivery.objects.get(channel__url__endswith=f":{port}/hook")
    tasks.deliver_webhook(delivery.pk)
    delivery.refresh_from_db()
    return delivery


def test_refused_silent_and_non_http_ports_read_the_same(alice, listener, settings, enqueued):
    settings.NOTIFICATION_WEBHOOK_ALLOW_LOOPBACK = True  # the operator allowed it, as tests do
    settings.NOTIFICATION_WEBHOOK_TIMEOUT = 0.5

    refused = _last_error(alice.application, _closed_port())
    silent = _last_error(alice.application, listener(None))
    redis_like = _last_error(alice.application, listener(b"-ERR unknown command 'POST'\r\n"))

    for delivery in (refused, silent, redis_like):
        assert delivery.status == DeliveryStatus.RETRYING
        assert delivery.last_status_code is None
        assert delivery.last_error == NOT_DELIVERED
    assert "refused" not in NOT_DELIVERED.lower()
