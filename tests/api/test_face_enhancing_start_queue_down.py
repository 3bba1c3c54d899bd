"""POST /api/v1/Image/FaceEnhancing/AdCreative while the broker is down.

The client gets a 503 problem detail with Retry-After and the server keeps
nothing of the upload: no process, no render task, no file. The same request
sent again once the broker is back starts the process.
"""

from __future__ import annotations

import pytest

from enhancer.models import FaceEnhancerProcess, RenderTask
from tests.api.face_enhancing_support import (
    START_URL,
    media_files,
    start_form,
)
from tests.conftest import use_broker

# Committed for real: the message is sent after commit, as in production.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("media", "channel_optional"),
]

# Nothing listens on port 1: every connection is refused at once.
BROKER_DOWN = "redis://127.0.0.1:1/0"


def test_a_broker_outage_is_a_503_with_retry_after_and_nothing_is_stored(
    client, alice, alice_headers
):
    with use_broker(url=BROKER_DOWN):
        response = client.post(START_URL, start_form(alice.application), headers=alice_headers)

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "10"
    body = response.json()
    assert body["type"] == "https://tools.ietf.org/html/rfc9110#section-15.6.4"
    assert body["title"] == "Service Unavailable"
    assert body["status"] == 503
    assert body["detail"] == (
        "The processing queue is unavailable, so the image was not kept; "
        "send the same request again in 10 seconds."
    )
    assert body["instance"] == START_URL
    assert body["errors"] == {}
    assert body["extensions"]["traceId"]
    assert FaceEnhancerProcess.objects.count() == 0
    assert RenderTask.objects.count() == 0
    assert media_files() == []


def test_the_same_request_with_its_idempotency_key_starts_once_the_broker_is_back(
    client, alice, alice_headers, request
):
    headers = {**alice_headers, "Idempotency-Key": "upload-42"}
    with use_broker(url=BROKER_DOWN):
        refused = client.post(START_URL, start_form(alice.application), headers=headers)
    assert refused.status_code == 503

    enqueued = request.getfixturevalue("enqueued")  # the broker is back, and records

    response = client.post(START_URL, start_form(alice.application), headers=headers)

    # A new process, not a replay of the discarded one.
    assert response.status_code == 200, response.content
    assert "Idempotent-Replayed" not in response
    body = response.json()
    assert body["status"] == "Queued"
    process = FaceEnhancerProcess.objects.get()
    assert body["imageFaceEnhancerProcessId"] == str(process.id)
    assert process.render_tasks.count() == 1
    assert [message.args for message in enqueued] == [[str(process.id)]]
    assert len(media_files()) == 1
