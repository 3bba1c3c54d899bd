"""A job whose queue is down waits, says so, and is sent again: it never fails for it.

Two outages: the dashboard's own broker when the upload is received (the job
is kept and the sweeper sends it once the broker is back), and the API's
broker when the dashboard's worker submits the job (the API answers 503 with
Retry-After; the worker shows the job waiting and tries again later).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from config.celery import app as celery_app
from dashboard.models import Job
from dashboard.services import API_QUEUE_DOWN, OUR_QUEUE_DOWN, jobs_sweep
from tests.api.face_enhancing_support import image_bytes as portrait
from tests.conftest import use_broker, wait_until
from tests.dashboard.factories import image_bytes, job_for, member_of, team_for

pytestmark = pytest.mark.django_db(transaction=True)
JSON = {"Accept": "application/json"}
# Nothing listens on port 1: every connection is refused at once.
BROKER_DOWN = "redis://127.0.0.1:1/0"


def _upload(client):
    return client.post(
        reverse("dashboard:upload"),
        {
            "images": SimpleUploadedFile("me.jpg", image_bytes(), content_type="image/jpeg"),
            "aria_ratio": "0.5",
            "max_face_count": "10",
        },
        headers=JSON,
    )


def test_an_upload_while_our_broker_is_down_is_kept_waiting_then_swept(
    member_client, member, media_root, monkeypatch, settings
):
    with use_broker(url=BROKER_DOWN):
        response = _upload(member_client)

    # The person sees the job accepted and honestly waiting, not an error page.
    assert response.status_code == 201
    body = response.json()
    assert body["ok"] is True and body["job"]["status"] == "Waiting for the queue"
    job = Job.objects.get()
    assert str(job.pk) == body["job"]["id"]
    assert (job.status, job.error_message) == (Job.Status.WAITING, OUR_QUEUE_DOWN)
    with job.original.open("rb") as stored:
        assert stored.read() == image_bytes()

    page = member_client.get(reverse("dashboard:job", args=[job.pk])).content.decode()
    assert "Waiting for the queue" in page
    assert "the image is kept and sent once it is back" in page
    assert "could not be enhanced" not in page
    cards = member_client.get(reverse("dashboard:jobs")).content.decode()
    # The card's badge (the state filter offers every state's words, Failed too).
    assert '<span class="badge badge-waiting">Waiting for the queue</span>' in cards
    assert "badge-failed" not in cards

    # The broker is back: the sweeper sends the job once it has been quiet a while.
    sent: list[str] = []
    monkeypatch.setattr("dashboard.enqueue.job_submit", sent.append)
    past = timezone.now() - timedelta(seconds=settings.DASHBOARD_STALE_AFTER + 1)
    Job.objects.filter(pk=job.pk).update(updated_at=past)

    assert jobs_sweep().resubmitted == 1
    assert sent == [str(job.pk)]


def test_a_waiting_job_is_not_failed_for_its_attempts_only_for_its_time_limit(
    alice, monkeypatch, settings
):
    membership = member_of(team_for(alice))
    sent: list[str] = []
    monkeypatch.setattr("dashboard.enqueue.job_submit", sent.append)
    stale = timezone.now() - timedelta(seconds=settings.DASHBOARD_STALE_AFTER + 1)
    waiting = job_for(
        membership,
        "waiting.jpg",
        status=Job.Status.WAITING,
        attempts=settings.DASHBOARD_MAX_ATTEMPTS + 3,
    )
    too_old = job_for(membership, "too-old.jpg", status=Job.Status.WAITING)
    Job.objects.filter(pk=waiting.pk).update(updated_at=stale)
    Job.objects.filter(pk=too_old.pk).update(
        updated_at=stale,
        created_at=timezone.now() - timedelta(seconds=settings.DASHBOARD_JOB_TIMEOUT + 1),
    )

    report = jobs_sweep()

    assert (report.resubmitted, report.failed) == (1, 1)
    assert sent == [str(waiting.pk)]
    too_old.refresh_from_db()
    assert too_old.status == Job.Status.FAILED
    assert "time limit" in too_old.error_message


@pytest.mark.worker
def test_a_503_from_the_api_leaves_the_job_waiting_until_the_worker_sends_it_again(
    celery_worker_process, alice, live_server
):
    # A team on the live server's API, whose enhancements a real worker runs.
    membership = member_of(team_for(alice, base_url=live_server.url))
    job = job_for(membership, "astronaut.jpg")
    job.original.save("astronaut.jpg", ContentFile(portrait(128)))
    # The dashboard's queue works; only the API's (this process's) broker is down.
    working_broker = celery_app.conf.broker_url

    with use_broker(url=BROKER_DOWN):
        with celery_app.connection_for_write(url=working_broker) as connection:
            celery_app.send_task(
                "dashboard.job_submit",
                args=[str(job.pk)],
                queue="default",
                connection=connection,
                ignore_result=True,  # the result store is this process's, down too
            )
        job = wait_until(lambda: _in(job, {Job.Status.WAITING}), timeout=60, what="the job to wait")
        assert job.error_message == API_QUEUE_DOWN
        assert job.process_id is None  # the API kept nothing

    # The API asked for 10 s: the worker's retry after them goes through.
    job = wait_until(
        lambda: _in(job, {Job.Status.COMPLETED, Job.Status.FAILED}),
        timeout=180,
        what="the job to finish",
    )
    assert job.status == Job.Status.COMPLETED, job.error_message
    assert job.error_message == ""
    assert job.process_id is not None


def _in(job: Job, statuses: set[str]) -> Job | None:
    job.refresh_from_db()
    return job if job.status in statuses else None
