"""POST /api/v1/Image/FaceEnhancing/CancelFaceEnhancing (an extension beyond the seed)."""

from __future__ import annotations

import re
import uuid

import pytest
from drf_spectacular.generators import SchemaGenerator

from enhancer.models import FaceEnhancerProcess, ProcessStatus, RenderState
from enhancer.processing.messages import CANCELLED_MESSAGE
from enhancer.processing.tasks import process_enhance
from tests.api.face_enhancing_support import (
    BASE,
    START_URL,
    USER_PROGRESS_URL,
    image_bytes,
    make_process,
    start_form,
    stored_files,
    uploaded,
    wait_for_status,
)
from tests.conftest import wait_until

CANCEL_URL = f"{BASE}/CancelFaceEnhancing"
USER = uuid.UUID(int=1)


def _post(client, headers, **query: str):
    # The ids go in the URL, as in the other FaceEnhancing operations; the body is empty.
    url = CANCEL_URL + "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return client.post(url, headers=headers)


def _cancel_ids(client, headers, process_id, user_id=USER):
    return _post(client, headers, userId=str(user_id), imageFaceEnhancerProcessId=str(process_id))


@pytest.mark.usefixtures("media")
def test_a_queued_process_is_cancelled_and_a_worker_then_does_nothing(client, alice, alice_headers):
    process = make_process(alice.application)

    response = _cancel_ids(client, alice_headers, process.pk)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "Cancelled"
    assert body["errorMessage"] == CANCELLED_MESSAGE
    assert body["completedAt"] is not None
    assert [t["renderState"] for t in body["renderTasks"]] == [RenderState.CANCELLED]
    assert [t["renderStateName"] for t in body["renderTasks"]] == ["Cancelled"]
    # The worker that later picks the message finds it finished and leaves it.
    assert process_enhance.apply(args=[str(process.pk)]).get() == "finished"
    process.refresh_from_db()
    assert process.status == ProcessStatus.CANCELLED
    assert process.attempts == 0 and process.started_at is None
    # CheckUserProgress says the same.
    progress = client.get(
        USER_PROGRESS_URL,
        {"userId": str(USER), "imageFaceEnhancerProcessId": str(process.pk)},
        headers=alice_headers,
    ).json()
    assert progress["items"][0]["status"] == "Cancelled"


@pytest.mark.usefixtures("media")
def test_cancelling_twice_answers_the_same_cancelled_process(
    client, alice, alice_headers, monkeypatch
):
    sent: list[dict] = []
    monkeypatch.setattr(
        "enhancer.processing.stop.publish",
        lambda *args, **kwargs: sent.append({"args": args, **kwargs}),
    )
    process = make_process(alice.application, status=ProcessStatus.PROCESSING)

    first = _cancel_ids(client, alice_headers, process.pk)
    second = _cancel_ids(client, alice_headers, process.pk)

    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert second.json()["status"] == "Cancelled"
    # The channels hear of it once, as of any final state: a failed task completion.
    assert len(sent) == 1
    assert sent[0]["args"][0] == "ImageFaceEnhancingTaskCompleted"
    assert sent[0]["is_successful"] is False
    assert sent[0]["error_message"] == CANCELLED_MESSAGE


@pytest.mark.usefixtures("media")
@pytest.mark.parametrize("status", [ProcessStatus.COMPLETED, ProcessStatus.FAILED])
def test_a_finished_process_is_a_409_naming_its_state(client, alice, alice_headers, status):
    process = make_process(alice.application, status=status)

    response = _cancel_ids(client, alice_headers, process.pk)

    assert response.status_code == 409
    assert response["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 409
    assert status in problem["detail"]
    assert problem["errors"] == {"imageFaceEnhancerProcessId": [f"Is {status}."]}
    process.refresh_from_db()
    assert process.status == status


@pytest.mark.usefixtures("media")
def test_another_applications_process_or_user_is_a_404_and_stays_untouched(
    client, alice, bob_headers, alice_headers
):
    process = make_process(alice.application)

    answers = [
        _cancel_ids(client, bob_headers, process.pk),  # Bob's credentials
        _cancel_ids(client, alice_headers, process.pk, user_id=uuid.UUID(int=2)),
        _cancel_ids(client, alice_headers, uuid.uuid4()),
    ]

    for response in answers:
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/problem+json")
        assert response.json()["errors"] == {
            "imageFaceEnhancerProcessId": ["No such process of this userId."]
        }
    process.refresh_from_db()
    assert process.status == ProcessStatus.QUEUED


@pytest.mark.usefixtures("media")
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"userId": "not-a-guid", "imageFaceEnhancerProcessId": str(uuid.uuid4())}, "userId"),
        ({"userId": str(USER), "imageFaceEnhancerProcessId": "42"}, "imageFaceEnhancerProcessId"),
        ({"userId": str(USER)}, "imageFaceEnhancerProcessId"),
        ({"imageFaceEnhancerProcessId": str(uuid.uuid4())}, "userId"),
        ({"userId": "", "imageFaceEnhancerProcessId": str(uuid.uuid4())}, "userId"),
    ],
)
def test_bad_ids_are_a_400_naming_the_parameter(client, alice, alice_headers, query, field):
    response = _post(client, alice_headers, **query)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert list(response.json()["errors"]) == [field]


def test_without_credentials_it_is_a_401(client, db):
    response = _post(client, {}, userId=str(USER), imageFaceEnhancerProcessId=str(uuid.uuid4()))

    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")


def test_the_schema_documents_the_operation():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    path = schema["paths"][CANCEL_URL]
    assert set(path) == {"post"}
    operation = path["post"]
    assert operation["operationId"] == "cancelFaceEnhancing"
    params = {(p["in"], p["name"]): p for p in operation["parameters"]}
    assert params[("query", "userId")]["required"] is True
    assert params[("query", "imageFaceEnhancerProcessId")]["required"] is True
    assert params[("header", "x-api-key")]["required"] is True
    assert operation["security"] == [{"bearerAuth": []}]
    # 414/431: over-long URI or header, on every operation (issue 12).
    assert set(operation["responses"]) == {"200", "400", "401", "404", "409", "414", "431"}
    assert "application/problem+json" in operation["responses"]["409"]["content"]
    assert "requestBody" not in operation


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("shared_media", "channel_optional")
def test_a_running_process_stops_at_its_next_progress_step(
    client, alice, alice_headers, celery_worker_process
):
    form = start_form(alice.application, uploadedImage=uploaded(image_bytes(512)))
    started = client.post(START_URL, form, headers=alice_headers)
    assert started.status_code == 200, started.content
    process_id = started.json()["imageFaceEnhancerProcessId"]

    def running() -> FaceEnhancerProcess | None:
        process = FaceEnhancerProcess.objects.get(pk=process_id)
        return process if process.status == ProcessStatus.PROCESSING else None

    wait_until(running, timeout=60, what="a worker to start the process", every=0.02)
    response = _cancel_ids(client, alice_headers, process_id)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "Cancelled"

    stopped = re.compile(rf"process {process_id}: cancelled while running; stopped")
    wait_until(
        lambda: stopped.search(celery_worker_process.output()),
        timeout=60,
        what="the worker to stop the cancelled process",
    )
    process = wait_for_status(process_id, {"Cancelled", "Completed", "Failed"})
    assert process.status == ProcessStatus.CANCELLED
    assert process.faces_detected is None  # the engine's work was never stored
    task = process.render_tasks.get()
    assert task.render_state == RenderState.CANCELLED
    assert not task.result and not task.preview
    # Only the upload is left in storage: no result file was kept.
    assert [p.name for p in stored_files(alice.application)] == ["upload.jpg"]
