"""POST /webhooks/face-enhancer/<connection>: signed notifications from the API."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from dashboard.models import Job
from enhancer.notifications.signing import secret_generate, sign_headers
from tests.dashboard.factories import job_for, member_of, team_for

SECRET = secret_generate()


@pytest.fixture
def job(alice):
    team = team_for(alice)
    team.connection.webhook_secret = SECRET
    team.connection.notification_channel_id = uuid.uuid4()
    team.connection.save()
    membership = member_of(team)
    return job_for(
        membership, status=Job.Status.PROCESSING, process_id=uuid.uuid4(), task_id=uuid.uuid4()
    )


def _post(
    client,
    job: Job,
    payload: dict[str, object],
    secret: str = SECRET,
    *,
    secrets: list[str] | None = None,
    timestamp: int | None = None,
):
    body = json.dumps(payload)
    headers = sign_headers(
        secrets=secrets or [secret],
        msg_id=f"msg_{uuid.uuid4().hex}",
        body=body,
        timestamp=timestamp,
    )
    return client.post(
        f"/webhooks/face-enhancer/{job.team.connection_id}",
        body,
        content_type="application/json",
        headers=headers,
    )


def _message(job: Job, message_type: str, **fields: object) -> dict[str, object]:
    return {
        "MessageType": message_type,
        "ApplicationId": str(job.team.connection.application_id),
        "UserId": str(job.user_guid),
        "ImageRenderProcessId": str(job.process_id),
        "TaskId": str(job.task_id),
        **fields,
    }


def test_a_signed_completion_starts_the_download_at_once(
    client, job, django_capture_on_commit_callbacks, monkeypatch
):
    sent: list[str] = []
    monkeypatch.setattr("dashboard.enqueue.job_download", sent.append)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(
            client, job, _message(job, "ImageFaceEnhancingTaskCompleted", IsSuccessful=True)
        )

    assert response.status_code == 204
    job.refresh_from_db()
    assert job.status == Job.Status.DOWNLOADING
    assert sent == [str(job.pk)]


def test_an_unsuccessful_completion_is_read_back_from_the_api(
    client, job, django_capture_on_commit_callbacks, monkeypatch
):
    # Failed and Cancelled send the same message: the poll reads which it was.
    polled: list[str] = []
    monkeypatch.setattr("dashboard.enqueue.job_poll", polled.append)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(
            client,
            job,
            _message(
                job,
                "ImageFaceEnhancingTaskCompleted",
                IsSuccessful=False,
                ErrorMessage="The process was cancelled by its application.",
            ),
        )

    assert response.status_code == 204
    assert polled == [str(job.pk)]
    job.refresh_from_db()
    assert job.status == Job.Status.PROCESSING


def test_progress_only_moves_forward(client, job):
    _post(client, job, _message(job, "ImageFaceEnhancingProgress", Progress=60))
    _post(client, job, _message(job, "ImageFaceEnhancingProgress", Progress=30))

    job.refresh_from_db()
    assert job.progress == 60


def test_a_forged_signature_is_refused_and_changes_nothing(client, job):
    response = _post(
        client,
        job,
        _message(job, "ImageFaceEnhancingTaskCompleted", IsSuccessful=False),
        secret=secret_generate(),
    )

    assert response.status_code == 401
    assert response.content.decode().startswith("Signature refused: ")
    job.refresh_from_db()
    assert job.status == Job.Status.PROCESSING


def test_while_the_api_rotates_its_secret_one_matching_signature_is_enough(client, job):
    payload = _message(job, "ImageFaceEnhancingProgress", Progress=40)

    response = _post(client, job, payload, secrets=[secret_generate(), SECRET])

    assert response.status_code == 204
    job.refresh_from_db()
    assert job.progress == 40


def test_a_replayed_message_past_the_tolerance_is_refused(client, job):
    payload = _message(job, "ImageFaceEnhancingProgress", Progress=40)

    response = _post(client, job, payload, timestamp=int(time.time()) - 10 * 60)

    assert response.status_code == 401
    assert response.content.decode().startswith("Signature refused: ")
    job.refresh_from_db()
    assert job.progress == 0


def test_an_unsigned_message_is_refused(client, job):
    response = client.post(
        f"/webhooks/face-enhancer/{job.team.connection_id}",
        json.dumps(_message(job, "ImageFaceEnhancingTaskCompleted", IsSuccessful=True)),
        content_type="application/json",
    )
    assert response.status_code == 401
    assert response.content.decode().startswith("Signature refused: ")
    job.refresh_from_db()
    assert job.status == Job.Status.PROCESSING


def test_a_process_of_another_client_is_acknowledged_and_ignored(client, job):
    payload = _message(job, "ImageFaceEnhancingTaskCompleted", IsSuccessful=True)
    payload["ImageRenderProcessId"] = str(uuid.uuid4())

    response = _post(client, job, payload)

    assert response.status_code == 204
    job.refresh_from_db()
    assert job.status == Job.Status.PROCESSING


def test_an_unknown_connection_is_404(client, job):
    body = json.dumps(_message(job, "ImageFaceEnhancingTaskCompleted", IsSuccessful=True))
    headers = sign_headers(secrets=[SECRET], msg_id=f"msg_{uuid.uuid4().hex}", body=body)

    response = client.post(
        "/webhooks/face-enhancer/999999", body, content_type="application/json", headers=headers
    )

    assert response.status_code == 404
    assert b"This page doesn't exist" in response.content
    job.refresh_from_db()
    assert job.status == Job.Status.PROCESSING


def test_a_completion_names_the_task_when_the_start_answer_did_not(
    client, job, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr("dashboard.enqueue.job_download", lambda job_id: None)
    task_id = job.task_id
    Job.objects.filter(pk=job.pk).update(task_id=None)

    with django_capture_on_commit_callbacks(execute=True):
        _post(client, job, _message(job, "ImageFaceEnhancingTaskCompleted", IsSuccessful=True))

    job.refresh_from_db()
    assert (job.status, job.task_id) == (Job.Status.DOWNLOADING, task_id)
